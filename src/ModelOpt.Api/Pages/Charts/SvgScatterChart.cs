using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Html;

namespace ModelOpt.Api.Pages.Charts;

/// <summary>Accuracy (or SQNR) against latency, one point per model form, drawn on the server as inline SVG (see <see cref="SvgBarChart"/>).</summary>
public static class SvgScatterChart
{
    private const int Width = 640;
    private const int Height = 360;
    private const int Left = 70;
    private const int Right = 20;
    private const int Top = 30;
    private const int Bottom = 50;
    private static readonly string[] Palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

    public static IHtmlContent Render(string id, string title, string xTitle, string yTitle, IReadOnlyList<ChartPoint> points,
        Func<double, string> formatX, Func<double, string> formatY)
    {
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var (xMin, xMax) = Range(points.Select(p => p.X));
        // The axes span the finite values; a point at +∞ (an SQNR of identical outputs) sits on the top edge, drawn hollow.
        var (yMin, yMax) = Range(points.Select(p => p.Y).Where(double.IsFinite));
        var series = points.Select(p => p.Series).Distinct().ToList();
        double X(double x) => Left + (x - xMin) / (xMax - xMin) * plotWidth;
        double Y(double y) => double.IsPositiveInfinity(y) ? Top : Top + plotHeight - (y - yMin) / (yMax - yMin) * plotHeight;

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg id=\"{id}\" class=\"chart scatter-chart\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{SvgBarChart.Encode(title)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"chart-title\" x=\"0\" y=\"18\">{SvgBarChart.Encode(title)}</text>");
        svg.Append(CultureInfo.InvariantCulture,
            $"<path class=\"axis\" d=\"M{Left} {Top}V{Top + plotHeight}H{Left + plotWidth}\" />");
        svg.Append(CultureInfo.InvariantCulture,
            $"<text class=\"axis-label\" x=\"{Left}\" y=\"{Height - 28}\">{SvgBarChart.Encode(formatX(xMin))}</text>"
            + $"<text class=\"axis-label\" x=\"{Left + plotWidth}\" y=\"{Height - 28}\" text-anchor=\"end\">{SvgBarChart.Encode(formatX(xMax))}</text>"
            + $"<text class=\"axis-title\" x=\"{Left + plotWidth / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\">{SvgBarChart.Encode(xTitle)}</text>"
            + $"<text class=\"axis-label\" x=\"{Left - 6}\" y=\"{Top + plotHeight}\" text-anchor=\"end\">{SvgBarChart.Encode(formatY(yMin))}</text>"
            + $"<text class=\"axis-label\" x=\"{Left - 6}\" y=\"{Top + 10}\" text-anchor=\"end\">{SvgBarChart.Encode(formatY(yMax))}</text>"
            + $"<text class=\"axis-title\" x=\"14\" y=\"{Top + plotHeight / 2}\" transform=\"rotate(-90 14 {Top + plotHeight / 2})\" text-anchor=\"middle\">{SvgBarChart.Encode(yTitle)}</text>");
        foreach (var point in points)
        {
            var colour = Palette[series.IndexOf(point.Series) % Palette.Length];
            var unbounded = double.IsPositiveInfinity(point.Y);
            var paint = unbounded ? $"fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"" : $"fill=\"{colour}\"";
            svg.Append(CultureInfo.InvariantCulture,
                $"<circle class=\"point{(unbounded ? " unbounded" : "")}\" cx=\"{X(point.X):0.##}\" cy=\"{Y(point.Y):0.##}\" r=\"6\" {paint} "
                + $"data-label=\"{SvgBarChart.Encode(point.Label)}\" data-series=\"{SvgBarChart.Encode(point.Series)}\" "
                + $"data-x=\"{point.X.ToString("R", CultureInfo.InvariantCulture)}\" data-y=\"{point.Y.ToString("R", CultureInfo.InvariantCulture)}\">"
                + $"<title>{SvgBarChart.Encode(point.Label)}: {SvgBarChart.Encode(formatX(point.X))}, {SvgBarChart.Encode(formatY(point.Y))}</title></circle>");
        }
        // Each legend entry as wide as its text (about 7 px a character at the chart's 12 px), so long names do not overlap.
        var legendX = Left + 10;
        for (var i = 0; i < series.Count && series.Count > 1; i++)
        {
            svg.Append(CultureInfo.InvariantCulture,
                $"<circle cx=\"{legendX}\" cy=\"{Top - 4}\" r=\"5\" fill=\"{Palette[i % Palette.Length]}\" />"
                + $"<text class=\"legend\" x=\"{legendX + 10}\" y=\"{Top}\">{SvgBarChart.Encode(series[i])}</text>");
            legendX += 30 + series[i].Length * 7;
        }
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    /// <summary>
    /// The data's range with a margin, so no point sits on the frame; a single value gets a range around it. Latency and
    /// accuracy are never negative, so neither is the axis then (an SQNR may be).
    /// </summary>
    private static (double Min, double Max) Range(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count == 0)
        {
            return (0, 1);
        }
        var (min, max) = (list.Min(), list.Max());
        var margin = max > min ? (max - min) * 0.1 : Math.Max(Math.Abs(max) * 0.1, 1e-3);
        return (min >= 0 ? Math.Max(0, min - margin) : min - margin, max + margin);
    }
}

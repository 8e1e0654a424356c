using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;

namespace ModelOpt.Api.Pages.Charts;

/// <summary>
/// A horizontal bar chart drawn on the server as inline SVG: no script, no CDN, the same picture in the page and the
/// report. Each bar carries its label and value as data attributes so that tests read what is drawn.
/// </summary>
public static class SvgBarChart
{
    private const int Width = 640;
    private const int LabelWidth = 270;
    private const int ValueWidth = 90;
    private const int RowHeight = 26;
    private const int Top = 30;

    public static IHtmlContent Render(string id, string title, IReadOnlyList<ChartBar> bars, Func<double, string> format)
    {
        var height = Top + bars.Count * RowHeight + 10;
        var plotWidth = Width - LabelWidth - ValueWidth;
        // The scale is the finite bars'; a bar of +∞ (an SQNR of identical outputs) fills the plot, a negative one has no length.
        var finite = bars.Where(b => double.IsFinite(b.Value)).Select(b => b.Value + (b.Spread ?? 0)).ToList();
        var max = finite.Count == 0 ? 1 : finite.Max();
        max = max > 0 ? max : 1;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg id=\"{id}\" class=\"chart bar-chart\" viewBox=\"0 0 {Width} {height}\" width=\"{Width}\" height=\"{height}\" role=\"img\" aria-label=\"{Encode(title)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"chart-title\" x=\"0\" y=\"18\">{Encode(title)}</text>");
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var y = Top + i * RowHeight;
            var length = double.IsPositiveInfinity(bar.Value) ? plotWidth : Math.Clamp(bar.Value / max * plotWidth, 0, plotWidth);
            svg.Append(CultureInfo.InvariantCulture,
                $"<text class=\"bar-label\" x=\"{LabelWidth - 8}\" y=\"{y + 16}\" text-anchor=\"end\">{Encode(bar.Label)}</text>");
            svg.Append(CultureInfo.InvariantCulture,
                $"<rect class=\"bar{(bar.Highlighted ? " selected" : "")}{(double.IsPositiveInfinity(bar.Value) ? " unbounded" : "")}\" x=\"{LabelWidth}\" y=\"{y + 4}\" width=\"{length:0.##}\" height=\"{RowHeight - 8}\" "
                + $"data-label=\"{Encode(bar.Label)}\" data-value=\"{bar.Value.ToString("R", CultureInfo.InvariantCulture)}\"><title>{Encode(bar.Label)}: {Encode(format(bar.Value))}</title></rect>");
            if (bar.Spread is { } spread && spread > 0)
            {
                var from = Math.Max(0, bar.Value - spread) / max * plotWidth + LabelWidth;
                var to = (bar.Value + spread) / max * plotWidth + LabelWidth;
                var middle = y + RowHeight / 2;
                svg.Append(CultureInfo.InvariantCulture,
                    $"<path class=\"error-bar\" data-label=\"{Encode(bar.Label)}\" data-spread=\"{spread.ToString("R", CultureInfo.InvariantCulture)}\" "
                    + $"d=\"M{from:0.##} {middle - 5}V{middle + 5}M{from:0.##} {middle}H{to:0.##}M{to:0.##} {middle - 5}V{middle + 5}\" />");
            }
            svg.Append(CultureInfo.InvariantCulture,
                $"<text class=\"bar-value\" x=\"{Width - ValueWidth + 6}\" y=\"{y + 16}\">{Encode(format(bar.Value))}</text>");
        }
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    internal static string Encode(string text) => HtmlEncoder.Default.Encode(text);
}

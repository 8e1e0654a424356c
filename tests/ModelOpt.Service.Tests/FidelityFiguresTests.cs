using AngleSharp.Html.Parser;
using ModelOpt.Api.Pages.Charts;
using ModelOpt.Api.Presentation;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The edges of the fidelity figures without a host: what the wire makes of figures that are not finite, which output a
/// one-line view names, and charts fed +∞ and negative SQNRs (which the render test's fixture does not reach).
/// </summary>
public sealed class FidelityFiguresTests
{
    [Fact]
    public void Figures_that_are_not_finite_become_null_and_only_plus_infinity_counts_as_identical()
    {
        var identical = OutputFidelityDto.From(new OutputFidelity("y", 4, double.PositiveInfinity, 1, 0, 0));
        var undefined = OutputFidelityDto.From(new OutputFidelity("y", 4, double.NegativeInfinity, double.NaN, 0.5, double.PositiveInfinity, -1, double.NaN));

        Assert.Equal(((double?)null, true, (double?)1.0), (identical.SqnrDb, identical.Identical, identical.CosineSimilarity));
        Assert.Equal(double.PositiveInfinity, identical.Sqnr());
        (double?, bool, double?, double?, double?, int?, double?) expected = (null, false, null, 0.5, null, -1, null);
        Assert.Equal(expected,
            (undefined.SqnrDb, undefined.Identical, undefined.CosineSimilarity, undefined.MeanAbsError, undefined.MaxAbsError, undefined.ClassAxis, undefined.ArgmaxAgreement));
        Assert.True(double.IsNaN(undefined.Sqnr()));
        Assert.Equal(("∞ (identical)", "—", "12.35 dB"), (FidelityText.Sqnr(identical), FidelityText.Sqnr(undefined), FidelityText.Sqnr(12.346)));
    }

    [Fact]
    public void A_one_line_view_names_the_least_faithful_output_an_undefined_sqnr_first()
    {
        OutputFidelityDto Output(string name, double? sqnr, bool identical = false, double? agreement = null) =>
            new(name, 8, sqnr, identical, 0.99, 0.1, 1, agreement is null ? null : -1, agreement);

        Assert.Equal("SQNR 20.00 dB, arg-max agreement 93.75 % (lowest of 3 outputs: b)",
            FidelityText.Summary([Output("a", null, identical: true), Output("b", 20, agreement: 0.9375), Output("c", 35)]));
        Assert.Equal("SQNR — (lowest of 2 outputs: d)", FidelityText.Summary([Output("c", 35), Output("d", null)]));
        Assert.Equal("SQNR ∞ (identical)", FidelityText.Summary([Output("a", null, identical: true)]));
    }

    [Fact]
    public void A_bar_of_plus_infinity_fills_the_plot_a_negative_one_has_no_length_and_the_scale_is_the_finite_bars()
    {
        var svg = SvgBarChart.Render("c", "SQNR", [new ChartBar("a", 10), new ChartBar("b", double.PositiveInfinity), new ChartBar("c", -3)], FidelityText.Sqnr).ToString()!;

        var chart = new HtmlParser().ParseDocument(svg);
        var bars = chart.QuerySelectorAll("rect.bar").ToDictionary(b => b.GetAttribute("data-label")!);
        const string plotWidth = "280"; // the chart's 640 px less the label and value columns
        Assert.Equal(plotWidth, bars["a"].GetAttribute("width"));
        Assert.Equal(plotWidth, bars["b"].GetAttribute("width"));
        Assert.Equal("Infinity", bars["b"].GetAttribute("data-value"));
        Assert.Contains("unbounded", bars["b"].ClassList);
        Assert.Equal("0", bars["c"].GetAttribute("width"));
        Assert.Equal(["10.00 dB", "∞ (identical)", "-3.00 dB"], chart.QuerySelectorAll("text.bar-value").Select(t => t.TextContent));
    }

    [Fact]
    public void Points_at_plus_infinity_sit_on_the_top_edge_hollow_even_when_no_point_is_finite()
    {
        var svg = SvgScatterChart.Render("s", "SQNR", "latency", "SQNR", [new ChartPoint("a", 2, double.PositiveInfinity, "x"), new ChartPoint("b", 3, double.PositiveInfinity, "x")],
            v => v.ToString(System.Globalization.CultureInfo.InvariantCulture), FidelityText.Sqnr).ToString()!;

        var points = new HtmlParser().ParseDocument(svg).QuerySelectorAll("circle.point");
        Assert.Equal(2, points.Length);
        Assert.All(points, p => Assert.Equal(("30", "none"), (p.GetAttribute("cy"), p.GetAttribute("fill")))); // the plot's top
        Assert.DoesNotContain("NaN", svg);
    }
}

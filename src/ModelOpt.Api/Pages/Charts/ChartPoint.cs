namespace ModelOpt.Api.Pages.Charts;

/// <summary>One point of a scatter chart; points of one series share a colour.</summary>
public sealed record ChartPoint(string Label, double X, double Y, string Series);

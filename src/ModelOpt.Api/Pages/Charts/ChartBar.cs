namespace ModelOpt.Api.Pages.Charts;

/// <summary>One bar: a model form's value, with its standard deviation as an error bar where the API reports one.</summary>
public sealed record ChartBar(string Label, double Value, double? Spread = null, bool Highlighted = false);

using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ModelOpt.Api.Endpoints;
using ModelOpt.Api.Presentation;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Pages.Charts;

namespace ModelOpt.Api.Pages.Jobs;

/// <summary>One job: the notebook's table for every stage and compile candidate, charts of the forms, settings, artifacts.</summary>
public sealed class DetailsModel(JobServices services) : PageModel
{
    public JobDto Job { get; private set; } = null!;

    public IReadOnlyList<MeasuredForm> Forms { get; private set; } = [];

    /// <summary>The per-layer sensitivity report, most sensitive first (empty until the calibrate stage has run).</summary>
    public IReadOnlyList<JobLayerDto> Layers { get; private set; } = [];

    /// <summary>The job's settings as the API stores them, section by section.</summary>
    public IReadOnlyList<(string Section, IReadOnlyList<(string Key, string Value)> Values)> Settings { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            Job = (await JobEndpoints.GetJobAsync(id, services, cancellationToken)).Value!;
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
        Forms = MeasuredForm.Of(Job);
        Layers = (await JobEndpoints.ListLayersAsync(id, services, cancellationToken)).Value!;
        Settings = SettingsOf(Job.Spec);
        return Page();
    }

    public IReadOnlyList<ChartBar> Bars(Func<StageResultDto, double> value, bool withSpread = false) =>
        Forms.Select(f => new ChartBar(f.Label, value(f.Result), withSpread ? f.Result.LatencyStdMs : null, f.Result.Selected && !f.Rejected)).ToList();

    /// <summary>One bar per int8 layer: its SQNR against FP32; the layer the report ranks first is marked.</summary>
    public IReadOnlyList<ChartBar> LayerBars() =>
        Layers.Select((l, i) => new ChartBar(l.Layer, l.SqnrDb, Highlighted: i == 0)).ToList();

    public IReadOnlyList<ChartPoint> Points() =>
        Forms.Select(f => new ChartPoint(f.Label, f.Result.LatencyMeanMs, f.Result.Accuracy, f.Rejected ? "rejected" : "measured")).ToList();

    private static IReadOnlyList<(string, IReadOnlyList<(string, string)>)> SettingsOf(JobSpec spec)
    {
        var json = JsonSerializer.SerializeToElement(spec, JsonSerializerOptions.Web);
        return json.EnumerateObject()
            .Select(section => (section.Name, (IReadOnlyList<(string, string)>)section.Value.EnumerateObject()
                .Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.Null ? "all" : p.Value.ToString())).ToList()))
            .ToList();
    }
}

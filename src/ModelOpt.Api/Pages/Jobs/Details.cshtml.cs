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

    /// <summary>The job's settings as the user gave them, the sections that applied (see <see cref="JobSettingsView"/>).</summary>
    public IReadOnlyList<ShownSettingsSection> Settings { get; private set; } = [];

    /// <summary>The batch the latencies were measured on (every form of a job is timed on the same batch).</summary>
    public int LatencyBatchSize => Forms.Count > 0 ? Forms[0].Result.BatchSize : Job.Spec.Evaluation.LatencyBatchSize;

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
        Settings = JobSettingsView.Of(Job);
        return Page();
    }

    /// <summary>One bar per measured form that has the value (a generic job's forms have no accuracy).</summary>
    public IReadOnlyList<ChartBar> Bars(Func<StageResultDto, double?> value, bool withSpread = false) =>
        Forms.Where(f => value(f.Result) is not null)
            .Select(f => new ChartBar(f.Label, value(f.Result)!.Value, withSpread ? f.Result.LatencyStdMs : null, f.Result.Selected && !f.Rejected)).ToList();

    /// <summary>One bar per int8 layer: its SQNR against FP32; the layer the report ranks first is marked.</summary>
    public IReadOnlyList<ChartBar> LayerBars() =>
        Layers.Select((l, i) => new ChartBar(l.Layer, l.SqnrDb, Highlighted: i == 0)).ToList();

    public IReadOnlyList<ChartPoint> Points() =>
        Forms.Where(f => f.Result.Accuracy is not null)
            .Select(f => new ChartPoint(f.Label, f.Result.LatencyMeanMs, f.Result.Accuracy!.Value, f.Rejected ? "rejected" : "measured")).ToList();
}

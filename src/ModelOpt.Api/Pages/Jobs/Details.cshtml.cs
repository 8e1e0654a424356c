using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ModelOpt.Api.Application.Jobs;
using ModelOpt.Api.Presentation;
using ModelOpt.Api.Pages.Charts;

namespace ModelOpt.Api.Pages.Jobs;

/// <summary>One job: the notebook's table for every stage and compile candidate, charts of the forms, settings, artifacts.</summary>
public sealed class DetailsModel(JobQueries queries) : PageModel
{
    public JobDto Job { get; private set; } = null!;

    public IReadOnlyList<MeasuredForm> Forms { get; private set; } = [];

    /// <summary>The per-layer sensitivity report, most sensitive first (empty until the convert stage has run).</summary>
    public IReadOnlyList<JobLayerDto> Layers { get; private set; } = [];

    /// <summary>The job's settings as the user gave them, the sections that applied (see <see cref="JobSettingsView"/>).</summary>
    public IReadOnlyList<ShownSettingsSection> Settings { get; private set; } = [];

    /// <summary>The graph outputs the forms' fidelity to FP32 was measured on (a generic job); empty for a classification job.</summary>
    public IReadOnlyList<string> Outputs { get; private set; } = [];

    /// <summary>Whether the forms carry fidelity to FP32: the table, headline and charts show it instead of (or beside) top-1.</summary>
    public bool ShowsFidelity => Outputs.Count > 0;

    /// <summary>Top-1 columns and charts: where a form has an accuracy, and before anything was measured unless the job is generic.</summary>
    public bool ShowsAccuracy => Forms.Any(f => f.Result.Accuracy is not null) || !ShowsFidelity;

    /// <summary>Whether some output has a class axis, so an arg-max agreement to show.</summary>
    public bool ShowsAgreement => Forms.Any(f => f.Result.Fidelity?.Any(o => o.ArgmaxAgreement is not null) == true);

    /// <summary>The batch the latencies were measured on (every form of a job is timed on the same batch).</summary>
    public int LatencyBatchSize => Forms.Count > 0 ? Forms[0].Result.BatchSize : Job.Spec.Evaluation.LatencyBatchSize;

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await queries.FindAsync(id, cancellationToken) is not { } job)
        {
            return NotFound();
        }
        Job = job;
        Forms = MeasuredForm.Of(Job);
        Outputs = MeasuredForm.FidelityOutputs(Job);
        Layers = await queries.ListLayersAsync(id, cancellationToken);
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

    /// <summary>One bar per measured form and output that has the figure (+∞ for an SQNR of identical outputs).</summary>
    public IReadOnlyList<ChartBar> FidelityBars(Func<OutputFidelityDto, double?> value) =>
        Forms.SelectMany(f => (f.Result.Fidelity ?? []).Where(o => value(o) is not null)
            .Select(o => new ChartBar(f.OutputLabel(o, Outputs.Count), value(o)!.Value, Highlighted: f.Result.Selected && !f.Rejected))).ToList();

    /// <summary>The SQNR a chart draws: +∞ for identical outputs, nothing where it is not a number.</summary>
    public static double? ChartedSqnr(OutputFidelityDto output) => double.IsNaN(output.Sqnr()) ? null : output.Sqnr();

    public IReadOnlyList<ChartPoint> Points() =>
        Forms.Where(f => f.Result.Accuracy is not null)
            .Select(f => new ChartPoint(f.Label, f.Result.LatencyMeanMs, f.Result.Accuracy!.Value, f.Rejected ? "rejected" : "measured")).ToList();

    /// <summary>SQNR against latency: one point per measured form and output.</summary>
    public IReadOnlyList<ChartPoint> SqnrPoints() =>
        Forms.SelectMany(f => (f.Result.Fidelity ?? []).Where(o => ChartedSqnr(o) is not null)
            .Select(o => new ChartPoint(f.OutputLabel(o, Outputs.Count), f.Result.LatencyMeanMs, ChartedSqnr(o)!.Value, f.Rejected ? "rejected" : "measured"))).ToList();
}

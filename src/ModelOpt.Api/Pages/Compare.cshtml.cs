using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ModelOpt.Api.Application.Jobs;
using ModelOpt.Api.Presentation;
using ModelOpt.Api.Pages.Charts;

namespace ModelOpt.Api.Pages;

/// <summary>
/// Two or more jobs side by side (e.g. one checkpoint under different observers): headline table with the images and
/// batch behind each figure, one scatter of all forms, and a warning for every way the rows are not comparable.
/// </summary>
public sealed class CompareModel(JobQueries queries) : PageModel
{
    /// <summary>Job ids, repeated (<c>?ids=a&amp;ids=b</c>) or comma-separated (<c>?ids=a,b</c>).</summary>
    [BindProperty(SupportsGet = true)]
    public string[] Ids { get; set; } = [];

    public IReadOnlyList<JobDto> Jobs { get; private set; } = [];

    public IReadOnlyList<string> Missing { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var jobs = new List<JobDto>();
        var missing = new List<string>();
        foreach (var text in Ids.SelectMany(i => i.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct())
        {
            if (!Guid.TryParse(text, out var id))
            {
                missing.Add(text);
                continue;
            }
            if (await queries.FindAsync(id, cancellationToken) is { } job)
            {
                jobs.Add(job);
            }
            else
            {
                missing.Add(text);
            }
        }
        Jobs = jobs;
        Missing = missing;
    }

    /// <summary>Whether the job's latencies are not comparable with the first job's (see <see cref="MeasuredCpus"/>).</summary>
    public bool MeasuredOnOtherCpu(JobDto job) => MeasuredCpus.DifferFrom(Jobs[0], job);

    /// <summary>Whether the job's accuracies were scored on another number of test images than the first job's.</summary>
    public bool ScoredOnOtherImages(JobDto job) =>
        MeasuredForm.Delivered(job)?.ImagesScored is { } images && MeasuredForm.Delivered(Jobs[0])?.ImagesScored is { } first && images != first;

    /// <summary>Whether the job's latencies were timed on another batch size than the first job's.</summary>
    public bool TimedOnOtherBatch(JobDto job) =>
        MeasuredForm.Delivered(job)?.BatchSize is { } batch && MeasuredForm.Delivered(Jobs[0])?.BatchSize is { } first && batch != first;

    /// <summary>Whether the job judged its forms by another measure than the first job's (see <see cref="MeasuredForm.MeasuredOtherwise"/>).</summary>
    public bool MeasuredOtherwise(JobDto job) => MeasuredForm.MeasuredOtherwise(Jobs[0], job);

    public static string Name(JobDto job) => $"{Format.ShortId(job.Id)} {job.Spec.Quantization.ActivationObserver}";

    public IReadOnlyList<ChartPoint> Points() =>
        Jobs.SelectMany(job => MeasuredForm.Of(job).Where(f => f.Result.Accuracy is not null)
            .Select(f => new ChartPoint(f.Label, f.Result.LatencyMeanMs, f.Result.Accuracy!.Value, Name(job)))).ToList();

    /// <summary>SQNR against latency: one point per measured form and output of every job that measured fidelity (+∞ for identical outputs).</summary>
    public IReadOnlyList<ChartPoint> SqnrPoints() =>
        Jobs.SelectMany(job =>
        {
            var outputs = MeasuredForm.FidelityOutputs(job).Count;
            return MeasuredForm.Of(job).SelectMany(f => (f.Result.Fidelity ?? []).Where(o => !double.IsNaN(o.Sqnr()))
                .Select(o => new ChartPoint(f.OutputLabel(o, outputs), f.Result.LatencyMeanMs, o.Sqnr(), Name(job))));
        }).ToList();
}

using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// Keeps the latest progress of a running job in memory; the job's monitor writes it to the row once per poll, so a
/// chatty stage costs no extra database writes. Overall percent = (completed stages + fraction of this one) / stages.
/// </summary>
internal sealed class ProgressTracker(IReadOnlyList<PipelineStage> stages) : IProgress<PipelineProgress>
{
    private volatile Snapshot current = new(null, 0, "Starting");

    public sealed record Snapshot(PipelineStage? Stage, double Percent, string Message);

    public Snapshot Current => current;

    public void StageStarted(PipelineStage stage) => current = new(stage, PercentAt(stage, 0), $"{stage}: starting");

    public void Report(PipelineProgress value)
    {
        var fraction = double.IsFinite(value.Fraction) ? Math.Clamp(value.Fraction, 0, 1) : 0;
        current = new(value.Stage, PercentAt(value.Stage, fraction), Truncate($"{value.Stage}: {value.Message}", 512));
    }

    public double PercentAt(PipelineStage stage, double fraction)
    {
        var index = Math.Max(0, stages.ToList().IndexOf(stage));
        return stages.Count == 0 ? 100 : Math.Round(100.0 * (index + fraction) / stages.Count, 2);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}

using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// Keeps the latest progress of a running job in memory; the job's monitor writes it to the row once per poll, so a
/// chatty stage costs no extra database writes. Overall percent = (completed stages + fraction of this one) / stages.
/// The running stage's remaining seconds come from the rate its batches have been reported at so far
/// (<see cref="StageEta"/>).
/// </summary>
internal sealed class ProgressTracker(IReadOnlyList<PipelineStage> stages, TimeProvider? time = null) : IProgress<PipelineProgress>
{
    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private readonly Lock gate = new();
    private volatile Snapshot current = new(null, 0, "Starting", null);
    private StageEta? eta;

    /// <param name="EtaSeconds">Seconds until the running stage completes; null until its rate has been measured.</param>
    public sealed record Snapshot(PipelineStage? Stage, double Percent, string Message, double? EtaSeconds);

    public Snapshot Current => current;

    public void StageStarted(PipelineStage stage)
    {
        lock (gate)
        {
            eta = new StageEta(stage);
            current = new(stage, PercentAt(stage, 0), $"{stage}: starting", null);
        }
    }

    public void Report(PipelineProgress value)
    {
        var fraction = double.IsFinite(value.Fraction) ? Math.Clamp(value.Fraction, 0, 1) : 0;
        lock (gate)
        {
            if (eta?.Stage != value.Stage)
            {
                eta = new StageEta(value.Stage);
            }
            var remaining = eta.Observe(fraction, clock.GetTimestamp(), clock.TimestampFrequency);
            current = new(value.Stage, PercentAt(value.Stage, fraction), Truncate($"{value.Stage}: {value.Message}", 512), remaining);
        }
    }

    public double PercentAt(PipelineStage stage, double fraction)
    {
        var index = Math.Max(0, stages.ToList().IndexOf(stage));
        return stages.Count == 0 ? 100 : Math.Round(100.0 * (index + fraction) / stages.Count, 2);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}

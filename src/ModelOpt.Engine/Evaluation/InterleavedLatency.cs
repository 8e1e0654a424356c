using System.Diagnostics;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// Times several forward functions on one shared random batch, round robin: each round runs every form once, in an order
/// rotated per round, so that a load spike on shared cores hits every form alike rather than whichever was being timed.
/// </summary>
public static class InterleavedLatency
{
    /// <param name="roundDone">Called after each timed round with the number of rounds done.</param>
    public static IReadOnlyList<LatencyResult> Measure(
        IReadOnlyList<Func<Tensor, Tensor>> forwards, long[] inputShape, EvaluationOptions options, Action<int>? roundDone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.LatencyBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(options.WarmupRuns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.TimedRuns);

        using var noGrad = no_grad();
        using var input = rand([options.LatencyBatchSize, .. inputShape]);
        foreach (var forward in forwards)
        {
            for (var run = 0; run < options.WarmupRuns; run++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                forward(input).Dispose();
            }
        }
        var timings = forwards.Select(_ => new double[options.TimedRuns]).ToArray();
        for (var round = 0; round < options.TimedRuns; round++)
        {
            for (var turn = 0; turn < forwards.Count; turn++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var form = (turn + round) % forwards.Count;
                var clock = Stopwatch.StartNew();
                using var output = forwards[form](input);
                timings[form][round] = clock.Elapsed.TotalMilliseconds;
            }
            roundDone?.Invoke(round + 1);
        }
        return [.. timings.Select(t => new LatencyResult(options.LatencyBatchSize, t))];
    }
}

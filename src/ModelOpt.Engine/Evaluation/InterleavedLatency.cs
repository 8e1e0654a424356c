using System.Diagnostics;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// Times several forward functions on one shared random batch, round robin: each round runs every form once, in an order
/// rotated per round, so that a load spike on shared cores hits every form alike rather than whichever was being timed.
/// Each visit first runs the form once untimed: forms share the caches, and the first run after another form pays for
/// bringing its weights back, and not equally for every form (resnet18-cifar's converted form timed a 103 ms median in
/// such cold rounds against 74 ms alone), whereas a deployed model runs alone.
/// </summary>
public static class InterleavedLatency
{
    /// <param name="settled">
    /// Asked after each round from <paramref name="minimumRounds"/> on, for every form still timed but the first, with
    /// the first form's timings and that form's so far: true stops timing it (its result keeps the rounds it ran). Once
    /// every other form is settled the rounds end: the first form alone is compared with nothing.
    /// </param>
    /// <param name="decided">
    /// Asked after each round from <paramref name="decisionRounds"/> on, with the first form's timings and another
    /// still-timed form's: once it is true for every such form, the rounds end for all of them together.
    /// </param>
    /// <param name="roundDone">Called after each timed round with the number of rounds done.</param>
    public static IReadOnlyList<LatencyResult> Measure(
        IReadOnlyList<Func<Tensor, Tensor>> forwards, long[] inputShape, EvaluationOptions options, Action<int>? roundDone = null,
        CancellationToken cancellationToken = default, int minimumRounds = int.MaxValue, Func<int, LatencyResult, LatencyResult, bool>? settled = null,
        int decisionRounds = int.MaxValue, Func<LatencyResult, LatencyResult, bool>? decided = null)
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
        var timings = forwards.Select(_ => new List<double>(options.TimedRuns)).ToArray();
        var timed = Enumerable.Range(0, forwards.Count).ToList();
        for (var round = 0; round < options.TimedRuns; round++)
        {
            for (var turn = 0; turn < timed.Count; turn++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var form = timed[(turn + round) % timed.Count];
                forwards[form](input).Dispose();
                var clock = Stopwatch.StartNew();
                using var output = forwards[form](input);
                timings[form].Add(clock.Elapsed.TotalMilliseconds);
            }
            var reference = new LatencyResult(options.LatencyBatchSize, timings[0]);
            LatencyResult SoFar(int form) => new(options.LatencyBatchSize, timings[form]);
            if (settled is not null && round + 1 >= minimumRounds)
            {
                timed.RemoveAll(form => form != 0 && settled(form, reference, SoFar(form)));
            }
            roundDone?.Invoke(round + 1);
            var othersDecided = decided is not null && round + 1 >= decisionRounds && timed.Count > 1
                && timed.All(form => form == 0 || decided(reference, SoFar(form)));
            if ((timed.Count == 1 && forwards.Count > 1) || othersDecided)
            {
                break;
            }
        }
        return [.. timings.Select(t => new LatencyResult(options.LatencyBatchSize, t))];
    }
}

using System.Diagnostics;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Evaluation;

/// <summary>The notebook's <c>estimate_latency</c> on CPU: one batch of <c>torch.rand</c> inputs, warm-up runs, then timed runs.</summary>
public static class LatencyEvaluator
{
    /// <summary>Times a module after switching it to eval mode.</summary>
    public static LatencyResult Measure(nn.Module<Tensor, Tensor> model, long channels, EvaluationOptions options, CancellationToken cancellationToken = default)
    {
        model.eval();
        return Measure(model.call, channels, options, cancellationToken);
    }

    /// <summary>Times any forward function on a (<see cref="EvaluationOptions.LatencyBatchSize"/>, channels, 32, 32) batch.</summary>
    public static LatencyResult Measure(Func<Tensor, Tensor> forward, long channels, EvaluationOptions options, CancellationToken cancellationToken = default) =>
        Measure(forward, [channels, ImageTransform.ImageSize, ImageTransform.ImageSize], options, cancellationToken);

    /// <summary>Times any forward function on a (<see cref="EvaluationOptions.LatencyBatchSize"/>, C, H, W) batch of the job's input shape.</summary>
    public static LatencyResult Measure(Func<Tensor, Tensor> forward, long[] inputShape, EvaluationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.LatencyBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(options.WarmupRuns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.TimedRuns);

        using var noGrad = no_grad();
        using var input = rand([options.LatencyBatchSize, .. inputShape]);
        for (var run = 0; run < options.WarmupRuns; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            forward(input).Dispose();
        }
        var timings = new double[options.TimedRuns];
        for (var run = 0; run < options.TimedRuns; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            using var output = forward(input);
            timings[run] = clock.Elapsed.TotalMilliseconds;
        }
        return new LatencyResult(options.LatencyBatchSize, timings);
    }
}

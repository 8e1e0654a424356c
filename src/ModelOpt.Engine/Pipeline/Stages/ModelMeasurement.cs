using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>The notebook's three figures for one model form: top-1 on the test set, batch latency, serialized size.</summary>
internal static class ModelMeasurement
{
    /// <param name="progressFrom">Where this measurement starts in the stage's progress; it ends at <paramref name="progressTo"/>.</param>
    public static StageMetrics Measure(
        StageContext context, string backend, Func<Tensor, Tensor> forward, long sizeBytes, double progressFrom = 0, double progressTo = 1)
    {
        var options = context.Request.Evaluation;
        context.Report(progressFrom, $"{backend}: scoring the test set");
        var accuracy = AccuracyEvaluator.Measure(forward, context.Data.Test, options.TestSubset, cancellationToken: context.CancellationToken);
        context.Report(progressFrom + (progressTo - progressFrom) / 2, $"{backend}: timing {options.TimedRuns} batches of {options.LatencyBatchSize}");
        var latency = LatencyEvaluator.Measure(forward, context.InputShape, options, context.CancellationToken);
        return new StageMetrics(
            backend, context.Request.Device, sizeBytes, accuracy.Accuracy, accuracy.ImagesScored, latency.MeanMs, latency.StdMs, latency.BatchSize);
    }
}

using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>The notebook's three figures for one model form: top-1 on the test set, batch latency, serialized size.</summary>
internal static class ModelMeasurement
{
    public static StageMetrics Measure(StageContext context, string backend, Func<Tensor, Tensor> forward, long sizeBytes)
    {
        var options = context.Request.Evaluation;
        context.Report(0.1, $"{backend}: scoring the test set");
        var accuracy = AccuracyEvaluator.Measure(forward, context.Data.Test, options.TestSubset, cancellationToken: context.CancellationToken);
        context.Report(0.6, $"{backend}: timing {options.TimedRuns} batches of {options.LatencyBatchSize}");
        var latency = LatencyEvaluator.Measure(forward, context.Dataset.Channels, options, context.CancellationToken);
        return new StageMetrics(
            backend, context.Request.Device, sizeBytes, accuracy.Accuracy, accuracy.ImagesScored, latency.MeanMs, latency.StdMs, latency.BatchSize);
    }
}

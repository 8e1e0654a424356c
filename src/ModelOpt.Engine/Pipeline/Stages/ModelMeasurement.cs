using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// The notebook's three figures for one model form: top-1 on the test set (a generic job: fidelity to the FP32 outputs
/// on its evaluation images, <see cref="Fp32Outputs"/>), batch latency, serialized size.
/// </summary>
internal static class ModelMeasurement
{
    /// <param name="progressFrom">Where this measurement starts in the stage's progress; it ends at <paramref name="progressTo"/>.</param>
    public static StageMetrics Measure(
        StageContext context, string backend, Func<Tensor, Tensor> forward, long sizeBytes, double progressFrom = 0, double progressTo = 1)
    {
        var options = context.Request.Evaluation;
        context.Report(progressFrom, $"{backend}: scoring the test set");
        double? accuracy = null;
        int images;
        IReadOnlyList<OutputFidelity>? fidelity = null;
        if (context.IsGeneric)
        {
            fidelity = Fp32Outputs.Measure(context, forward);
            images = fidelity[0].Images;
        }
        else
        {
            var top1 = AccuracyEvaluator.Measure(forward, context.Data.Test, options.TestSubset, cancellationToken: context.CancellationToken);
            (accuracy, images) = (top1.Accuracy, top1.ImagesScored);
        }
        var latency = Time(context, backend, forward, progressFrom, progressTo);
        return new StageMetrics(
            backend, context.Request.Device, sizeBytes, accuracy, images, latency.MeanMs, latency.StdMs, latency.BatchSize, Fidelity: fidelity);
    }

    /// <summary>
    /// A generic job's FP32 form: its outputs on the evaluation images are recorded (<see cref="Fp32Outputs"/>) as the
    /// reference of every later form; its own row has neither accuracy nor fidelity.
    /// </summary>
    public static StageMetrics RecordFp32(StageContext context, string backend, Func<Tensor, Tensor> forward, long sizeBytes)
    {
        context.Report(0, $"{backend}: recording the FP32 outputs of the evaluation images");
        int images;
        using (var evaluation = Fp32Outputs.Images(context))
        using (var outputs = FidelityEvaluator.Outputs(forward, evaluation, cancellationToken: context.CancellationToken))
        {
            Fp32Outputs.Record(context, outputs);
            images = evaluation.Count;
        }
        var latency = Time(context, backend, forward, 0, 1);
        return new StageMetrics(backend, context.Request.Device, sizeBytes, null, images, latency.MeanMs, latency.StdMs, latency.BatchSize);
    }

    private static LatencyResult Time(StageContext context, string backend, Func<Tensor, Tensor> forward, double progressFrom, double progressTo)
    {
        var options = context.Request.Evaluation;
        context.Report(progressFrom + (progressTo - progressFrom) / 2, $"{backend}: timing {options.TimedRuns} batches of {options.LatencyBatchSize}");
        return LatencyEvaluator.Measure(forward, context.InputShape, options, context.CancellationToken);
    }
}

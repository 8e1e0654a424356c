using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// Fidelity to FP32 (<see cref="OutputFidelity"/>, ADR-020): a form's outputs on the evaluation images against the FP32
/// outputs of the same images, recorded once (<see cref="Outputs"/>) and compared batch by batch, so only one batch of
/// the form's outputs is held at a time. Images are read in stored order, as <see cref="AccuracyEvaluator"/> reads them;
/// labels are never read.
/// </summary>
public static class FidelityEvaluator
{
    /// <summary>The outputs of <paramref name="forward"/> on every image of <paramref name="images"/>, concatenated on the batch axis (float32).</summary>
    public static Tensor Outputs(Func<Tensor, Tensor> forward, ImageDataset images, int batchSize = AccuracyEvaluator.DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        foreach (var batch in images.Batches(batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            outputs.Add(forward(batch.Images).to_type(ScalarType.Float32).contiguous());
        }
        return cat(outputs, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Compares <paramref name="forward"/>'s outputs on <paramref name="images"/> with <paramref name="reference"/>, the
    /// FP32 outputs of the same images in the same order (its first dimension is the image count).
    /// </summary>
    /// <param name="classAxis">The axis whose arg-max is compared (negative from the end, batch axis 0); null for none.</param>
    /// <exception cref="ArgumentException">The reference is not of these images, or a form's output differs in shape from FP32's.</exception>
    public static OutputFidelity Measure(
        Func<Tensor, Tensor> forward, ImageDataset images, Tensor reference, string output, int? classAxis,
        int batchSize = AccuracyEvaluator.DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        if (reference.shape[0] != images.Count)
        {
            throw new ArgumentException($"The FP32 outputs are of {reference.shape[0]} images; {images.Count} are evaluated.", nameof(reference));
        }
        var accumulator = new FidelityAccumulator(output, classAxis);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var start = 0L;
        foreach (var batch in images.Batches(batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = batch.Images.shape[0];
            accumulator.Add(reference.narrow(0, start, count), forward(batch.Images));
            start += count;
            scope.DisposeEverything();
        }
        return accumulator.Result();
    }
}

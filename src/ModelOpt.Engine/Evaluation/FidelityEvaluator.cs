using ModelOpt.Engine.Data;
using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// Fidelity to FP32 (<see cref="OutputFidelity"/>, ADR-020): a form's outputs on the evaluation images against the FP32
/// outputs of the same images, recorded once (<see cref="Outputs"/>) and compared batch by batch, so only one batch of
/// the form's outputs is held at a time. Images are read in stored order, as <see cref="AccuracyEvaluator"/> reads them;
/// labels are never read. A model with several outputs is measured on each (<see cref="OutputLayout"/> splits the packed
/// tensor); a decision takes the worst of them (<see cref="Worst"/>).
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
    /// FP32 outputs of the same images in the same order (its first dimension is the image count), output by output.
    /// </summary>
    /// <param name="outputs">The model's outputs, as both tensors pack them.</param>
    /// <param name="classAxis">
    /// The axis whose arg-max is compared (negative from the end, batch axis 0), on every output that has it
    /// (<see cref="ClassAxisOf"/>); null: axis 1 of each 2-D (N, C) output.
    /// </param>
    /// <returns>One fidelity per output, in order.</returns>
    /// <exception cref="ArgumentException">The reference is not of these images, or a form's output differs in shape from FP32's.</exception>
    public static IReadOnlyList<OutputFidelity> Measure(
        Func<Tensor, Tensor> forward, ImageDataset images, Tensor reference, OutputLayout outputs, int? classAxis,
        int batchSize = AccuracyEvaluator.DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        if (reference.shape[0] != images.Count)
        {
            throw new ArgumentException($"The FP32 outputs are of {reference.shape[0]} images; {images.Count} are evaluated.", nameof(reference));
        }
        var accumulators = outputs.Outputs.Select(o => new FidelityAccumulator(o.Name, ClassAxisOf(classAxis, o.Shape.Length + 1))).ToList();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var start = 0L;
        foreach (var batch in images.Batches(batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = batch.Images.shape[0];
            var fp32 = outputs.Unpack(reference.narrow(0, start, count));
            var form = outputs.Unpack(forward(batch.Images));
            for (var i = 0; i < accumulators.Count; i++)
            {
                accumulators[i].Add(fp32[i], form[i]);
            }
            start += count;
            scope.DisposeEverything();
        }
        return [.. accumulators.Select(a => a.Result())];
    }

    /// <summary>
    /// The class axis an output of <paramref name="rank"/> dimensions (batch axis included) is compared on: the job's
    /// <paramref name="requested"/> axis where the output has it, none where it does not; without one, axis 1 of a
    /// 2-D (N, C) output, as a classifier's logits.
    /// </summary>
    public static int? ClassAxisOf(int? requested, long rank)
    {
        if (requested is not { } axis)
        {
            return rank == 2 ? 1 : null;
        }
        var dimension = axis < 0 ? rank + axis : axis;
        return dimension > 0 && dimension < rank ? axis : null;
    }

    /// <summary>
    /// What a decision (a fidelity budget, the <c>auto</c> observer, a compile candidate) reads for a model with several
    /// outputs: each figure at its worst over the outputs (lowest SQNR, cosine and arg-max agreement, highest errors),
    /// named after the outputs. A single output's fidelity is returned as it is.
    /// </summary>
    /// <exception cref="ArgumentException">No outputs.</exception>
    public static OutputFidelity Worst(IReadOnlyList<OutputFidelity> outputs)
    {
        if (outputs.Count == 0)
        {
            throw new ArgumentException("There is no output to take the worst of.", nameof(outputs));
        }
        if (outputs.Count == 1)
        {
            return outputs[0];
        }
        var agreements = outputs.Where(o => o.ArgmaxAgreement is not null).ToList();
        var leastAgreeing = agreements.MinBy(o => o.ArgmaxAgreement);
        return new OutputFidelity(
            $"worst of {string.Join(", ", outputs.Select(o => o.Output))}",
            outputs.Min(o => o.Images),
            outputs.Min(o => o.SqnrDb),
            outputs.Min(o => o.CosineSimilarity),
            outputs.Max(o => o.MeanAbsError),
            outputs.Max(o => o.MaxAbsError),
            leastAgreeing?.ClassAxis,
            leastAgreeing?.ArgmaxAgreement);
    }
}

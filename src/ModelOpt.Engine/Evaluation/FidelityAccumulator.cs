namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// Running sums of one output's <see cref="OutputFidelity"/> over batches: every sum is taken in float64 (each batch is
/// widened before it is summed), so ten thousand images of a large map lose nothing to float32 rounding. The definitions
/// are ADR-020's; <see cref="Result"/> applies them.
/// </summary>
public sealed class FidelityAccumulator(string output, int? classAxis)
{
    private double signal;
    private double noise;
    private double dot;
    private double formEnergy;
    private double absError;
    private double maxAbsError;
    private long elements;
    private long positions;
    private long agreeing;

    public int Images { get; private set; }

    /// <summary>Adds one batch: the FP32 outputs and the form's outputs of the same images, same shape (N, ...).</summary>
    /// <exception cref="ArgumentException">The shapes differ, or the class axis is not one of the output's (the batch axis is not one).</exception>
    public void Add(Tensor reference, Tensor form)
    {
        if (!reference.shape.SequenceEqual(form.shape))
        {
            throw new ArgumentException(
                $"Output '{output}' is ({string.Join(", ", form.shape)}) where the FP32 model's is ({string.Join(", ", reference.shape)}).");
        }
        using var scope = NewDisposeScope();
        var fp32 = reference.to_type(ScalarType.Float64);
        var other = form.to_type(ScalarType.Float64);
        var difference = (other - fp32).abs_();
        signal += fp32.square().sum().item<double>();
        noise += difference.square().sum().item<double>();
        dot += (fp32 * other).sum().item<double>();
        formEnergy += other.square().sum().item<double>();
        absError += difference.sum().item<double>();
        if (difference.numel() > 0)
        {
            maxAbsError = Math.Max(maxAbsError, difference.max().item<double>());
        }
        elements += fp32.numel();
        Images += (int)reference.shape[0];
        if (classAxis is { } axis)
        {
            var dimension = ResolveAxis(axis, reference.dim(), output);
            var same = reference.argmax(dimension).eq(form.argmax(dimension));
            positions += same.numel();
            agreeing += same.sum().item<long>();
        }
    }

    /// <summary>
    /// The fidelity so far. SQNR is +∞ when no element differs (and −∞ when the FP32 output is all zeros but the form's
    /// is not); cosine is 1 when both outputs are all zeros and 0 when only one is.
    /// </summary>
    public OutputFidelity Result()
    {
        var sqnr = noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
        var norms = Math.Sqrt(signal) * Math.Sqrt(formEnergy);
        var cosine = norms > 0 ? dot / norms : signal == formEnergy ? 1 : 0;
        return new OutputFidelity(
            output, Images, sqnr, cosine, elements == 0 ? 0 : absError / elements, maxAbsError, classAxis,
            classAxis is null ? null : positions == 0 ? 1 : (double)agreeing / positions);
    }

    /// <summary>The non-negative dimension of <paramref name="axis"/> in a tensor of <paramref name="rank"/> dimensions, batch axis included.</summary>
    /// <exception cref="ArgumentException">The axis is the batch axis or out of range.</exception>
    public static long ResolveAxis(int axis, long rank, string output)
    {
        var dimension = axis < 0 ? rank + axis : axis;
        if (dimension <= 0 || dimension >= rank)
        {
            throw new ArgumentException(
                $"classAxis {axis} is not an axis of output '{output}', which has {rank} dimensions with the batch axis 0: " +
                $"give 1 to {rank - 1} or -1 to -{rank - 1}.");
        }
        return dimension;
    }
}

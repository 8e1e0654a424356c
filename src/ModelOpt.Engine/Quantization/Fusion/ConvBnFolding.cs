namespace ModelOpt.Engine.Quantization.Fusion;

/// <summary>BatchNorm folding, as <c>torch.nn.utils.fusion.fuse_conv_bn_weights</c>.</summary>
public static class ConvBnFolding
{
    /// <summary>
    /// W' = W * gamma / sqrt(var + eps) (per output channel), b' = (b - mean) * gamma / sqrt(var + eps) + beta.
    /// A missing conv bias counts as zeros, a missing BN affine as gamma = 1, beta = 0.
    /// </summary>
    public static (Tensor Weight, Tensor Bias) FuseConvBnWeights(
        Tensor convWeight, Tensor? convBias, Tensor runningMean, Tensor runningVar, double eps, Tensor? bnWeight, Tensor? bnBias)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var gamma = bnWeight?.detach() ?? ones_like(runningMean);
        var beta = bnBias?.detach() ?? zeros_like(runningMean);
        var bias = convBias?.detach() ?? zeros_like(runningMean);
        var factor = gamma * rsqrt(runningVar + eps);
        var shape = new long[convWeight.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        var weight = convWeight.detach() * factor.reshape(shape);
        var foldedBias = (bias - runningMean) * factor + beta;
        return (weight.contiguous().MoveToOuterDisposeScope(), foldedBias.contiguous().MoveToOuterDisposeScope());
    }
}

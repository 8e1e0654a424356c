namespace ModelOpt.Engine.Quantization.Convert;

/// <summary>
/// The int8 weight of one conv or linear node. <see cref="IntWeight"/> is a plain <c>torch.int8</c> tensor (the
/// integer representation); <see cref="Scales"/> (float64) and <see cref="ZeroPoints"/> (int64) have one entry per
/// output channel when <see cref="PerChannel"/>, otherwise one entry. <see cref="Bias"/> stays float32, as in
/// PyTorch's x86 recipe. Tensors are owned by the <see cref="QuantizedGraph"/>.
/// </summary>
public sealed record WeightQuantization(Tensor IntWeight, Tensor Scales, Tensor ZeroPoints, bool PerChannel, Tensor? Bias)
{
    public const long ChannelAxis = 0;
}

namespace ModelOpt.Engine.Quantization.Config;

/// <summary>PyTorch's <c>torch.qscheme</c>: how scale and zero point are chosen and whether they vary per channel.</summary>
public enum QScheme
{
    PerTensorAffine,
    PerTensorSymmetric,
    PerChannelAffine,
    PerChannelSymmetric,
}

namespace ModelOpt.Engine.Quantization.Convert;

/// <summary>Per-tensor quantization of one activation: q = clamp(round(x / Scale) + ZeroPoint, QuantMin, QuantMax).</summary>
public sealed record ActivationQuantization(double Scale, long ZeroPoint, ScalarType Dtype, long QuantMin, long QuantMax);

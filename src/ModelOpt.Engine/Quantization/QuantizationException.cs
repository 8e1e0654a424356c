namespace ModelOpt.Engine.Quantization;

/// <summary>A model or its calibration data cannot be quantized (non-finite activations, an observer that saw no data).</summary>
public sealed class QuantizationException(string message) : Exception(message);

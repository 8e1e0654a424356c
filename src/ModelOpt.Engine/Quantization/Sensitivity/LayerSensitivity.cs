namespace ModelOpt.Engine.Quantization.Sensitivity;

/// <summary>
/// How much one int8 conv / linear layer loses to quantization. <see cref="SqnrDb"/> and <see cref="Mse"/> compare its
/// FP32 output with its fake-quantized output (int8 weights, quantized input and output) computed from the same FP32
/// input, so each layer's own error is measured, not what earlier layers passed on. <see cref="AccuracyGainWhenFloat"/>
/// is the top-1 change, in points, on the validation split (training images) when only this layer is left in FP32 (null when not measured).
/// </summary>
public sealed record LayerSensitivity(
    string Layer,
    string Kind,
    double SqnrDb,
    double Mse,
    double ActivationMin,
    double ActivationMax,
    double OutputScale,
    long OutputZeroPoint,
    double? AccuracyGainWhenFloat);

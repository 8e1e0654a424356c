using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// A generic job's <see cref="DeliveredAccuracy"/>: the fidelity to FP32 of a converted graph as the Convert stage will
/// deliver it (LibTorch's int8 kernels under the engine Convert picks), on which the fidelity budget and the <c>auto</c>
/// observer decide.
/// </summary>
internal static class DeliveredFidelity
{
    /// <param name="reference">The FP32 outputs of <paramref name="images"/>, in order.</param>
    public static OutputFidelity Measure(
        QuantizedGraph quantized, ImageDataset images, Tensor reference, string output, int? classAxis, int batchSize, CancellationToken cancellationToken)
    {
        using var model = TorchScriptInt8Model.Build(quantized, QuantizedEngine.For(quantized.Graph));
        return FidelityEvaluator.Measure(model.Run, images, reference, output, classAxis, batchSize, cancellationToken);
    }
}

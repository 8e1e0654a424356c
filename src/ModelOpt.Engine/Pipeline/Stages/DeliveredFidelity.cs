using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// A generic job's <see cref="DeliveredAccuracy"/>: the fidelity to FP32 of a converted graph as the Convert stage will
/// deliver it (LibTorch's int8 kernels under the engine Convert picks), on which the fidelity budget and the <c>auto</c>
/// observer decide. A model with several outputs is judged by its worst output (<see cref="FidelityEvaluator.Worst"/>).
/// </summary>
internal static class DeliveredFidelity
{
    /// <param name="reference">The FP32 outputs of <paramref name="images"/>, in order, packed as <paramref name="outputs"/> says.</param>
    /// <param name="classAxis">The job's class axis (<see cref="FidelityEvaluator.ClassAxisOf"/>).</param>
    public static OutputFidelity Measure(
        QuantizedGraph quantized, ImageDataset images, Tensor reference, OutputLayout outputs, int? classAxis, int batchSize, CancellationToken cancellationToken)
    {
        using var model = TorchScriptInt8Model.Build(quantized, QuantizedEngine.For(quantized.Graph));
        return FidelityEvaluator.Worst(FidelityEvaluator.Measure(model.Run, images, reference, outputs, classAxis, batchSize, cancellationToken));
    }
}

using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// The top-1 of a converted graph as the Convert stage will deliver it: lowered to LibTorch's int8 kernels under the
/// engine Convert picks. The accuracy budget and the <c>auto</c> observer judge candidates by this, not by the
/// fake-quantized simulation, which rounds differently (on mobilenet_v2-cifar the simulation lost 0.2 pt where the
/// kernels lost 0.4).
/// </summary>
internal static class DeliveredAccuracy
{
    public static double Measure(QuantizedGraph quantized, ImageDataset validation, int batchSize, CancellationToken cancellationToken)
    {
        using var model = TorchScriptInt8Model.Build(quantized, QuantizedEngine.For(quantized.Graph));
        return AccuracyEvaluator.Measure(model.Run, validation, batchSize: batchSize, cancellationToken: cancellationToken).Accuracy;
    }
}

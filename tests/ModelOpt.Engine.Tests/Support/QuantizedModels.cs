using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Tests.Support;

/// <summary>Test models quantized by the real pipeline: capture, prepare, calibrate on random batches, convert.</summary>
internal static class QuantizedModels
{
    /// <summary>The job's default recipe (histogram activations) with per-channel or per-tensor weights.</summary>
    public static QConfig Default(bool perChannelWeights = true) =>
        QConfigFactory.FromOptions(new QuantizationOptions { PerChannelWeights = perChannelWeights });

    /// <summary>
    /// Puts <paramref name="model"/> in eval mode and quantizes it with <paramref name="qconfig"/>, calibrated on
    /// <paramref name="batches"/> standard-normal batches of <paramref name="batchSize"/> images (<paramref name="inputShape"/>
    /// with N replaced), leaving the layers in <paramref name="keepFloat"/> FP32. The result borrows the model's unfolded
    /// tensors: dispose it before the model.
    /// </summary>
    public static QuantizedGraph Quantize<TModel>(
        TModel model, long[] inputShape, QConfig qconfig, int batches = 3, int batchSize = 16, IReadOnlyCollection<string>? keepFloat = null)
        where TModel : nn.Module, ITraceable
    {
        model.eval();
        using var captured = GraphBuilder.Capture(model, inputShape);
        using var prepared = QuantizePt2e.Prepare(captured, qconfig, keepFloat);
        long[] batchShape = [batchSize, .. inputShape[1..]];
        QuantizePt2e.Calibrate(prepared, RandomBatches(batchShape, batches));
        return QuantizePt2e.Convert(prepared);
    }

    /// <summary>Standard-normal batches created lazily, inside calibration's dispose scope, which disposes each after use.</summary>
    public static IEnumerable<Tensor> RandomBatches(long[] shape, int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return randn(shape);
        }
    }
}

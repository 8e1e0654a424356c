using ModelOpt.Engine.Data;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Sensitivity;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(TrainedResNet20Collection.Name)]
public class LayerSensitivityTests(TrainedResNet20 trained, ITestOutputHelper output)
{
    private const string DamagedLayer = "layer2.0.conv2";

    private const int BatchSize = 128;

    [Fact]
    public void A_layer_with_an_outlier_weight_ranks_first()
    {
        using var captured = GraphBuilder.Capture(trained.Model, [1, 1, 32, 32]);
        using var calibration = trained.Data.Train.Take(128);
        using var quantized = QuantizeWithDamagedLayer(captured, calibration);
        using var validation = trained.Data.Test.Take(256);

        var report = LayerSensitivityAnalysis.Analyze(quantized, calibration.Batches(BatchSize).Select(b => b.Images), validation, BatchSize);

        foreach (var layer in report)
        {
            output.WriteLine($"{layer.Layer}: SQNR {layer.SqnrDb:F1} dB, MSE {layer.Mse:G3}, range [{layer.ActivationMin:F2}, {layer.ActivationMax:F2}], " +
                $"float gain {layer.AccuracyGainWhenFloat:F2} pt");
        }
        Assert.Equal(22, report.Count);
        Assert.Equal(DamagedLayer, report[0].Layer);
        Assert.True(report[0].SqnrDb + 3 < report[1].SqnrDb, $"{DamagedLayer} at {report[0].SqnrDb:F1} dB is not clearly below {report[1].Layer}");
        Assert.All(report, l => Assert.NotNull(l.AccuracyGainWhenFloat));
        Assert.All(report, l => Assert.True(l.Mse >= 0 && l.ActivationMax >= l.ActivationMin && l.OutputScale > 0));
    }

    private static QuantizedGraph QuantizeWithDamagedLayer(ModelGraph captured, ImageDataset calibration)
    {
        using var prepared = QuantizePt2e.Prepare(captured, QuantizedModels.Default());
        DamageOneWeight(prepared, DamagedLayer);
        QuantizePt2e.Calibrate(prepared, calibration.Batches(BatchSize).Select(b => b.Images));
        return QuantizePt2e.Convert(prepared);
    }

    // The folded conv weight belongs to the prepared graph (BatchNorm folding made it), so the shared model is untouched.
    private static void DamageOneWeight(PreparedModel prepared, string layer)
    {
        var weight = prepared.Graph.Nodes.OfType<Conv2dNode>().Single(c => c.Name == layer).Weight;
        using var noGrad = no_grad();
        using var outlier = weight.abs().max() * 50;
        weight[0, 0, 1, 1] = outlier;
    }
}

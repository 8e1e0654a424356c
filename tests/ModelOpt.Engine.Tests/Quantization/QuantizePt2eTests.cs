using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Observers;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(GlobalGeneratorCollection.Name)]
public class QuantizePt2eTests
{
    [Fact]
    public void Prepare_places_one_observer_per_quantized_value_and_weight_of_resnet20()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 3, seed: 1);
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);

        using var prepared = QuantizePt2e.Prepare(captured, X86InductorQuantizer.GetDefaultQuantizationConfig());

        // input + 21 conv (19 in blocks and stem, 2 downsample) + 9 add + 1 linear; 21 conv + 1 linear weights.
        Assert.Equal(32, prepared.ActivationObservers.Count);
        Assert.Equal(22, prepared.WeightObservers.Count);
        Assert.Equal(32, prepared.ActivationObservers.Values.Distinct().Count());
        Assert.All(prepared.ActivationObservers.Values, o => Assert.IsType<HistogramObserver>(o));
        Assert.Contains(prepared.ActivationObservers.Values, o => o.Label.Contains("layer2.0.downsample.0"));
    }

    [Fact]
    public void Fake_quantized_resnet20_agrees_with_fp32_top1_on_95_percent_of_random_inputs()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 3, seed: 2);
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);
        using var prepared = QuantizePt2e.Prepare(captured, X86InductorQuantizer.GetDefaultQuantizationConfig());
        using var calibration = randn(128, 3, 32, 32);
        QuantizePt2e.Calibrate(prepared, [calibration]);
        using var quantized = QuantizePt2e.Convert(prepared);

        using var inputs = randn(256, 3, 32, 32);
        using var expected = GraphInterpreter.Run(quantized.Graph, inputs);
        using var actual = FakeQuantizedGraphInterpreter.Run(quantized, inputs);

        using var agree = (expected.argmax(1) == actual.argmax(1)).to_type(ScalarType.Float32).mean();
        Assert.True(agree.item<float>() >= 0.95f, $"top-1 agreement {agree.item<float>():P1}");
        Assert.Contains("HistogramObserver", quantized.QConfigDescription);
        Assert.Contains("PerChannelMinMaxObserver", quantized.QConfigDescription);
    }

    [Fact]
    public void Convert_produces_the_backend_contract_with_per_channel_error_within_half_a_scale()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 3, seed: 3);
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);
        using var prepared = QuantizePt2e.Prepare(captured, QConfigFactory.FromOptions(new() { ActivationObserver = "minmax" }));
        using var calibration = randn(16, 3, 32, 32);
        QuantizePt2e.Calibrate(prepared, [calibration]);

        using var quantized = QuantizePt2e.Convert(prepared);

        Assert.Equal(32, quantized.Activations.Count);
        Assert.All(quantized.Activations.Values, a => Assert.Equal((ScalarType.QUInt8, 0L, 255L), (a.Dtype, a.QuantMin, a.QuantMax)));
        Assert.Equal(quantized.Activations[quantized.Graph.Input], quantized.QuantizationOf(quantized.Graph.Input));
        Assert.Equal(22, quantized.Weights.Count);
        foreach (var node in quantized.Graph.Nodes.OfType<Conv2dNode>())
        {
            var weight = quantized.Weights[node.Name];
            Assert.True(weight.PerChannel);
            Assert.Equal(ScalarType.Int8, weight.IntWeight.dtype);
            Assert.Equal(ScalarType.Float64, weight.Scales.dtype);
            Assert.Equal(ScalarType.Int64, weight.ZeroPoints.dtype);
            Assert.Equal(node.OutChannels, weight.Scales.shape[0]);
            Assert.Equal(ScalarType.Float32, weight.Bias!.dtype);
            using var dequantized = FakeQuantizedGraphInterpreter.DequantizedWeight(quantized, node.Name);
            using var error = (dequantized - node.Weight).abs().amax([1, 2, 3]).to_type(ScalarType.Float64);
            Assert.True((error <= weight.Scales / 2 + 1e-7).all().item<bool>(), node.Name);
        }
        Assert.Throws<InvalidOperationException>(() => QuantizePt2e.Convert(prepared));
    }

    [Fact]
    public void Calibrate_reports_progress_and_stops_between_batches_when_cancelled()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 3, seed: 4);
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);
        using var prepared = QuantizePt2e.Prepare(captured, QConfigFactory.FromOptions(new() { ActivationObserver = "minmax" }));
        using var cancellation = new CancellationTokenSource();
        var reports = new List<CalibrationProgress>();
        var progress = new SynchronousProgress<CalibrationProgress>(p =>
        {
            reports.Add(p);
            cancellation.Cancel();
        });
        Tensor[] batches = [randn(8, 3, 32, 32), randn(8, 3, 32, 32), randn(8, 3, 32, 32)];

        Assert.Throws<OperationCanceledException>(() => QuantizePt2e.Calibrate(prepared, batches, progress, cancellation.Token));

        Assert.Equal([new CalibrationProgress(1, 3, 8)], reports);
        Assert.Equal(1, prepared.BatchesObserved);
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
    }

    [Fact]
    public void Calibration_leaves_the_live_tensor_count_unchanged()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 3, seed: 5);
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);
        using var prepared = QuantizePt2e.Prepare(captured, X86InductorQuantizer.GetDefaultQuantizationConfig());
        using var warmup = randn(4, 3, 32, 32);
        QuantizePt2e.Calibrate(prepared, [warmup]);

        DisposeScopeManager.Statistics.Reset();
        QuantizePt2e.Calibrate(prepared, QuantizedModels.RandomBatches([4, 3, 32, 32], 3));

        Assert.Equal(0, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(4, prepared.BatchesObserved);
    }

    [Fact]
    public void Non_finite_activations_fail_calibration_naming_the_value()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 3, seed: 6);
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);
        using var prepared = QuantizePt2e.Prepare(captured, X86InductorQuantizer.GetDefaultQuantizationConfig());
        using var batch = full(2, 3, 32, 32, float.NaN);

        var error = Assert.Throws<QuantizationException>(() => QuantizePt2e.Calibrate(prepared, [batch]));

        Assert.Contains("(input)", error.Message);
        Assert.Contains("NaN", error.Message);
    }
}

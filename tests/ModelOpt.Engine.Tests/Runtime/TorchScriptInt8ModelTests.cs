using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Runtime;

// LibTorch's quantized engine is process-wide: these tests must not run in parallel with each other.
[Collection(QuantizedEngineCollection.Name)]
public class TorchScriptInt8ModelTests(ITestOutputHelper output)
{
    public static TheoryData<string, long, bool> ZooModels => new()
    {
        { ModelZoo.ResNet20, 1, true },
        { ModelZoo.ResNet20, 1, false },
        { ModelZoo.ResNet20, 3, true },
        { ModelZoo.ResNet20, 3, false },
        { ModelZoo.ResNet18Cifar, 3, true },
        { ModelZoo.ResNet18Cifar, 3, false },
        { ModelZoo.MobileNetV2Cifar, 1, true },
        { ModelZoo.ResNet18, 3, true },
    };

    /// <summary>Every activation observer x per-channel / per-tensor weights x affine / symmetric activations.</summary>
    public static TheoryData<string, bool, bool> EveryQuantizationOption
    {
        get
        {
            var data = new TheoryData<string, bool, bool>();
            foreach (var observer in ActivationObserverNames.Observers)
            {
                foreach (var perChannel in new[] { true, false })
                {
                    foreach (var symmetric in new[] { false, true })
                    {
                        data.Add(observer, perChannel, symmetric);
                    }
                }
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ZooModels))]
    public void Int8_model_compiles_runs_and_matches_the_fake_quant_simulation(string name, long channels, bool perChannel)
    {
        manual_seed(11);
        using var model = ModelZoo.Create(name, channels, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, channels, 32, 32], QuantizedModels.Default(perChannelWeights: perChannel));

        AssertMatchesFakeQuant(quantized, randn(64, channels, 32, 32), $"{name} {channels}ch {(perChannel ? "per-channel" : "per-tensor")}");
    }

    /// <summary>A TorchScript compile error aborts the process, so every configuration the options allow is built once.</summary>
    [Theory]
    [MemberData(nameof(EveryQuantizationOption))]
    public void Int8_resnet20_compiles_and_matches_the_fake_quant_simulation_for_every_quantization_option(
        string observer, bool perChannel, bool symmetric)
    {
        manual_seed(17);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var options = new QuantizationOptions { ActivationObserver = observer, PerChannelWeights = perChannel, SymmetricActivations = symmetric };
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QConfigFactory.FromOptions(options), batches: 2, batchSize: 4);

        AssertMatchesFakeQuant(quantized, randn(64, 1, 32, 32), $"resnet20 1ch {observer} {(perChannel ? "per-channel" : "per-tensor")} {(symmetric ? "symmetric" : "affine")}");
    }

    [Fact]
    public void Int8_resnet18_cifar_with_the_default_x86_config_matches_the_fake_quant_simulation()
    {
        manual_seed(19);
        using var model = ModelZoo.Create(ModelZoo.ResNet18Cifar, 3, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 3, 32, 32], X86InductorQuantizer.GetDefaultQuantizationConfig(), batches: 1, batchSize: 8);

        AssertMatchesFakeQuant(quantized, randn(32, 3, 32, 32), "resnet18-cifar 3ch x86 default");
    }

    [Fact]
    public void Int8_resnet20_agrees_with_fp32_on_top1()
    {
        manual_seed(5);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 3, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 3, 32, 32], QuantizedModels.Default());
        using var int8 = TorchScriptInt8Model.Build(quantized);
        using var input = randn(256, 3, 32, 32);

        using var fp32 = model.call(input);
        using var actual = int8.Run(input);

        var agreement = (actual.argmax(1) == fp32.argmax(1)).to_type(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"resnet20 int8 vs FP32 top-1 agreement on 256 random inputs: {agreement:P1}");
        Assert.True(agreement >= 0.9, $"int8 vs FP32 top-1 agreement is {agreement:P1}");
    }

    [Fact]
    public void Saved_archive_reloads_to_bit_identical_outputs()
    {
        manual_seed(3);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default());
        using var int8 = TorchScriptInt8Model.Build(quantized);
        using var input = randn(8, 1, 32, 32);
        using var expected = int8.Run(input);

        var path = Path.Combine(Path.GetTempPath(), $"int8-{Guid.NewGuid():N}.pt");
        try
        {
            int8.Save(path);
            using var loaded = TorchScriptInt8Model.Load(path);
            using var actual = loaded.Run(input);

            TensorAssert.BitIdentical(expected, actual);
            Assert.Equal(new FileInfo(path).Length, int8.SerializedSizeBytes);
            Assert.Equal(QuantizedEngine.Default, loaded.Engine);
            Assert.Contains("ops.quantized.conv2d_relu", loaded.Source);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Generated_source_names_variables_after_graph_nodes()
    {
        manual_seed(1);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(), batches: 1);

        var source = TorchScriptInt8Generator.Generate(quantized).Source;

        Assert.Contains("q_layer2_0_downsample_0 = ops.quantized.conv2d(", source);
        Assert.Contains("q_fc = ops.quantized.linear(q_flatten_", source);
        Assert.Contains("return torch.dequantize(q_fc)", source);
    }

    /// <summary>
    /// Max pools run on the plain uint8 values and average pools with one odd divisor in FP32 between dequantize and
    /// quantize (issue 28): every pool gives LibTorch's quantized pools' values, bit for bit, on the conv output it reads
    /// (an output of the graph too), and each output is within 2 steps of the fake-quant reference. 24 channels: a count
    /// at which LibTorch's NHWC max pool kernel goes scalar.
    /// </summary>
    [Fact]
    public void Pools_on_plain_uint8_and_in_fp32_give_the_values_of_libtorch_quantized_pools()
    {
        manual_seed(43);
        var v = Enumerable.Range(0, 8).Select(i => new GraphValue(i)).ToArray();
        using var graph = new ModelGraph(
        [
            new InputNode(v[0], [1, 3, 12, 12]),
            new Conv2dNode(v[1], "conv", v[0], randn(24, 3, 3, 3), randn(24) * 0.1, [1, 1], [1, 1], [1, 1], 1),
            new ClampNode(v[2], v[1], 0, 6),
            new MaxPool2dNode(v[3], v[2], [3, 3], [1, 1], [1, 1]),
            new MaxPool2dNode(v[4], v[2], [3, 3], [2, 2], [1, 1]),
            new AvgPool2dNode(v[5], v[2], [3, 3], [1, 1], [1, 1], CountIncludePad: true),
            new AvgPool2dNode(v[6], v[2], [3, 3], [1, 1], [1, 1], CountIncludePad: false),
            new AvgPool2dNode(v[7], v[2], [2, 2], [2, 2], [0, 0], CountIncludePad: false),
        ], v[0], [v[2], v[3], v[4], v[5], v[6], v[7]], ["conv", "max3s1", "max3s2", "avg3", "avg3-no-pad", "avg2s2"]);
        using var inputs = randn(16, 3, 12, 12);
        using var prepared = QuantizePt2e.Prepare(graph, X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [inputs]);
        using var quantized = QuantizePt2e.Convert(prepared);
        var source = TorchScriptInt8Generator.Generate(quantized).Source;

        foreach (var engine in new[] { QEngine.X86, QEngine.OneDnn })
        {
            using var int8 = TorchScriptInt8Model.Build(quantized, engine);
            var outputs = int8.RunAll(inputs);
            var q = quantized.QuantizationOf(v[2]);
            using var conv = quantize_per_tensor(outputs[0], q.Scale, q.ZeroPoint, ScalarType.QUInt8);
            Tensor[] kernels =
            [
                nn.functional.max_pool2d(conv, [3, 3], [1, 1], [1, 1]).dequantize(),
                nn.functional.max_pool2d(conv, [3, 3], [2, 2], [1, 1]).dequantize(),
                nn.functional.avg_pool2d(conv, [3, 3], [1, 1], [1, 1], count_include_pad: true).dequantize(),
                nn.functional.avg_pool2d(conv, [3, 3], [1, 1], [1, 1], count_include_pad: false).dequantize(),
                nn.functional.avg_pool2d(conv, [2, 2], [2, 2], [0, 0], count_include_pad: false).dequantize(),
            ];
            var simulated = FakeQuantizedGraphInterpreter.RunAll(quantized, inputs);
            for (var i = 1; i < outputs.Count; i++)
            {
                var steps = (outputs[i] - simulated[i]).abs().max().item<float>() / q.Scale;
                output.WriteLine($"{engine} {quantized.Graph.OutputNames[i]}: {steps:F2} steps from fake-quant");
                Assert.Equal(kernels[i - 1].data<float>().ToArray(), outputs[i].data<float>().ToArray());
                Assert.True(steps <= 2, $"{quantized.Graph.OutputNames[i]}: {steps:F2} output steps from the fake-quant reference");
            }
        }
        QuantizedEngine.Current = QuantizedEngine.Default;
        Assert.DoesNotContain("torch.max_pool2d(", source);
        // The max pools read the conv's uint8 values in place (TorchScriptInt8Generator.RawView), not through a copy.
        Assert.DoesNotContain("torch.int_repr(", source);
        // The two pools with even divisors, where FP32 would round ties differently, keep LibTorch's kernel.
        Assert.Single(source.Split('\n'), line => line.Contains("torch.avg_pool2d(torch.dequantize("));
        Assert.Equal(2, source.Split('\n').Count(line => line.Contains("torch.avg_pool2d(q_")));
    }

    /// <summary>
    /// Builds the int8 model and compares its logits on <paramref name="input"/> (disposed here) with
    /// <see cref="FakeQuantizedGraphInterpreter"/>: at most 4 output quantization steps apart, top-1 equal on 98 %.
    /// </summary>
    private void AssertMatchesFakeQuant(QuantizedGraph quantized, Tensor input, string label)
    {
        using var _ = input;
        using var int8 = TorchScriptInt8Model.Build(quantized);

        using var actual = int8.Run(input);
        using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, input);

        var outputScale = quantized.QuantizationOf(quantized.Graph.Output).Scale;
        var maxSteps = (actual - simulated).abs().max().item<float>() / outputScale;
        var agreement = (actual.argmax(1) == simulated.argmax(1)).to_type(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"{label}: max |int8 - fake-quant| = {maxSteps:F2} output steps, top-1 agreement {agreement:P1}");
        Assert.Equal([input.shape[0], 10], actual.shape);
        Assert.True(maxSteps <= 4, $"{label}: int8 logits differ from the fake-quant simulation by {maxSteps:F2} output quantization steps");
        Assert.True(agreement >= 0.98, $"{label}: top-1 agreement with the fake-quant simulation is {agreement:P1}");
    }
}

using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Runtime;

// LibTorch's quantized engine is process-wide (the linear layers are packed for it): not in parallel with other engine tests.
[Collection(QuantizedEngineCollection.Name)]
public class TorchScriptFusedInt8ModelTests(ITestOutputHelper output)
{
    public static TheoryData<string, long> ResidualModels => new()
    {
        { ModelZoo.ResNet20, 1 },
        { ModelZoo.ResNet18Cifar, 3 },
        { ModelZoo.ResNet18, 3 },
        { ModelZoo.MobileNetV2Cifar, 1 },
    };

    /// <summary>
    /// The fused model against two references: the fake-quant simulation with the fused convs' outputs left unrounded
    /// (what oneDNN's sum post-op computes; the bound is the one the converted form meets against the plain simulation),
    /// and LibTorch's <c>quantized::conv2d</c> + <c>quantized::add</c>, which round the conv output once more per block
    /// (3 to 7 steps apart on these random models). Random models have near-tied logits: one flipped image of 64 is 1.6 %.
    /// </summary>
    [Theory]
    [MemberData(nameof(ResidualModels))]
    public void Fused_model_fuses_every_residual_add_and_computes_the_sum_post_op_s_numerics(string name, long channels)
    {
        manual_seed(23);
        using var model = ModelZoo.Create(name, channels, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, channels, 32, 32], QuantizedModels.Default());
        Assert.Null(TorchScriptFusedInt8Generator.Unsupported(quantized));
        var generated = TorchScriptFusedInt8Generator.Generate(quantized);
        using var fused = TorchScriptFusedInt8Model.Build(quantized);
        using var converted = TorchScriptInt8Model.Build(quantized, QEngine.X86);
        using var input = randn(64, channels, 32, 32);

        using var actual = fused.Run(input);
        using var simulated = FusedSimulation(quantized, generated.FusedConvs, input);
        using var kernels = converted.Run(input);

        var adds = quantized.Graph.Nodes.OfType<AddNode>().Count();
        Assert.True(adds > 0, $"{name} has no residual add");
        Assert.Equal(adds, generated.FusedConvs.Count);
        Assert.Equal(adds, fused.Source.Split('\n').Count(line => line.Contains("\"sum\"")));
        var outputScale = quantized.QuantizationOf(quantized.Graph.Output).Scale;
        var simulatedSteps = (actual - simulated).abs().max().item<float>() / outputScale;
        var kernelSteps = (actual - kernels).abs().max().item<float>() / outputScale;
        var agreement = (actual.argmax(1) == simulated.argmax(1)).to_type(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"{name}: {adds} adds fused; max |fused - fused simulation| = {simulatedSteps:F2} output steps (top-1 agreement {agreement:P1}), " +
            $"max |fused - quantized::conv2d + add| = {kernelSteps:F2} steps");
        Assert.True(simulatedSteps <= 4, $"{name}: fused logits differ from the fused simulation by {simulatedSteps:F2} output quantization steps");
        Assert.True(agreement >= 0.95, $"{name}: top-1 agreement with the fused simulation is {agreement:P1}");
        Assert.True(kernelSteps <= 10, $"{name}: fused logits differ from LibTorch's quantized kernels by {kernelSteps:F2} output quantization steps");
    }

    [Fact]
    public void Saved_archive_packs_its_weights_when_loaded_and_reproduces_the_outputs_bit_for_bit()
    {
        manual_seed(29);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default());
        using var fused = TorchScriptFusedInt8Model.Build(quantized);
        using var input = randn(8, 1, 32, 32);
        using var expected = fused.Run(input);
        var bytes = fused.Serialize();

        // Plain jit.load, no ModelOpt step: the module's __setstate__ packs the weights.
        using var plain = jit.load(bytes, DeviceType.CPU);
        using var fromPlain = (Tensor)plain.forward(input);
        using var loaded = TorchScriptFusedInt8Model.Load(bytes);
        using var fromLoaded = loaded.Run(input);

        TensorAssert.BitIdentical(expected, fromPlain);
        TensorAssert.BitIdentical(expected, fromLoaded);
        Assert.Contains("ops.onednn.qconv2d_pointwise(", loaded.Source);
    }

    [Fact]
    public void Per_tensor_weights_have_no_fused_form()
    {
        manual_seed(31);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(perChannelWeights: false), batches: 1);

        Assert.Contains("symmetric per-channel", TorchScriptFusedInt8Generator.Unsupported(quantized));
        Assert.Throws<NotSupportedException>(() => TorchScriptFusedInt8Generator.Generate(quantized));
    }

    [Fact]
    public void A_graph_with_a_layer_kept_fp32_has_no_fused_form()
    {
        manual_seed(37);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(), batches: 1, keepFloat: ["layer2.0.conv1"]);

        Assert.Contains("has no int8 oneDNN path", TorchScriptFusedInt8Generator.Unsupported(quantized));
    }

    /// <summary>The fake-quant simulation, except that the fused convs' outputs go into their add unrounded.</summary>
    private static Tensor FusedSimulation(QuantizedGraph quantized, IReadOnlyList<string> fusedConvs, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in quantized.Graph.Nodes)
        {
            var value = node is InputNode ? input : FakeQuantizedGraphInterpreter.Evaluate(quantized, node, v => values[v]);
            values[node.Output] = node is Conv2dNode conv && fusedConvs.Contains(conv.Name)
                ? value
                : FakeQuantizedGraphInterpreter.FakeQuantize(value, quantized.QuantizationOf(node.Output));
        }
        return values[quantized.Graph.Output].MoveToOuterDisposeScope();
    }
}

using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Quantization;

/// <summary>
/// An InvertedResidual-like stack (1x1 expand, ReLU, 3x3 depthwise, ReLU, 1x1 project) whose channels' weight ranges
/// differ by up to three orders of magnitude: the case DFQ's cross-layer equalization is for.
/// </summary>
[Collection(GlobalGeneratorCollection.Name)]
public class CrossLayerEqualizationTests(ITestOutputHelper output) : IDisposable
{
    private const long InChannels = 8;
    private const long Hidden = 32;
    private const long Size = 8;

    private readonly List<Tensor> weights = [];

    [Fact]
    public void Equalization_leaves_the_fp32_outputs_of_a_relu_stack_unchanged()
    {
        using var graph = InvertedResidual(relu6: false);
        var (equalized, result) = CrossLayerEqualization.Apply(graph);
        using (equalized)
        using (var input = Images(64))
        using (var before = GraphInterpreter.Run(graph, input))
        using (var after = GraphInterpreter.Run(equalized, input))
        {
            var relative = (after - before).abs().max().item<float>() / before.abs().max().item<float>();
            output.WriteLine($"{result.Describe()}; largest output change {relative:G3} of the output range");
            Assert.Equal([new EqualizedPair("expand", "dw", false), new EqualizedPair("dw", "project", false)], result.Pairs);
            Assert.True(relative < 1e-5, $"outputs moved by {relative:G3} of their range");
            // The weights did change: an identity rewrite would pass the check above too.
            Assert.False(Conv(equalized, "expand").Weight.allclose(Conv(graph, "expand").Weight));
        }
    }

    [Fact]
    public void Paired_layers_end_with_the_same_normalized_range_per_channel()
    {
        using var graph = InvertedResidual(relu6: false);
        var (equalized, result) = CrossLayerEqualization.Apply(graph);
        using (equalized)
        {
            output.WriteLine(result.Describe());
            Assert.True(result.Converged);
            foreach (var pair in result.Pairs)
            {
                var (before, after) = (RangeMismatch(Conv(graph, pair.First), Conv(graph, pair.Second)), RangeMismatch(Conv(equalized, pair.First), Conv(equalized, pair.Second)));
                output.WriteLine($"{pair.First} -> {pair.Second}: largest |r1_i / max r1 - r2_i / max r2| {before:G3} -> {after:G3}");
                Assert.True(before > 0.5, $"{pair.First} -> {pair.Second} starts equalized ({before:G3})");
                Assert.True(after < 1e-4, $"{pair.First} -> {pair.Second} is not equalized ({after:G3})");
            }
        }
    }

    [Fact]
    public void A_conv_depthwise_conv_chain_converges_to_aimets_closed_form()
    {
        using var graph = InvertedResidual(relu6: false);
        var (equalized, _) = CrossLayerEqualization.Apply(graph);
        using (equalized)
        using (var scope = NewDisposeScope())
        {
            // AIMET's three-layer set: every channel of the chain ends at the cube root of its three original ranges.
            var r1 = CrossLayerEqualization.OutputChannelRanges(Conv(graph, "expand").Weight).to_type(ScalarType.Float64);
            var r2 = CrossLayerEqualization.OutputChannelRanges(Conv(graph, "dw").Weight).to_type(ScalarType.Float64);
            var r3 = CrossLayerEqualization.InputChannelRanges(Conv(graph, "project").Weight, 1).to_type(ScalarType.Float64);
            var expected = (r1 * r2 * r3).pow(1.0 / 3);
            var after = new[]
            {
                CrossLayerEqualization.OutputChannelRanges(Conv(equalized, "expand").Weight),
                CrossLayerEqualization.OutputChannelRanges(Conv(equalized, "dw").Weight),
                CrossLayerEqualization.InputChannelRanges(Conv(equalized, "project").Weight, 1),
            };
            foreach (var ranges in after)
            {
                var error = (ranges.to_type(ScalarType.Float64) / expected - 1).abs().max().item<double>();
                Assert.True(error < 1e-5, $"a range is {error:G3} off the cube root");
            }
        }
    }

    [Fact]
    public void Equalization_raises_the_output_sqnr_of_per_tensor_int8_weights()
    {
        using var graph = InvertedResidual(relu6: false);
        var (equalized, _) = CrossLayerEqualization.Apply(graph);
        using (equalized)
        using (var input = Images(64))
        using (var reference = GraphInterpreter.Run(graph, input))
        {
            var plain = PerTensorSqnr(graph, input, reference);
            var withCle = PerTensorSqnr(equalized, input, reference);
            // Measured 34.8 -> 40.8 dB: the error power at least halves.
            output.WriteLine($"output SQNR with per-tensor int8 weights: {plain:F1} dB plain, {withCle:F1} dB after cross-layer equalization");
            Assert.True(withCle > plain + 3, $"SQNR {plain:F1} dB -> {withCle:F1} dB");
        }
    }

    [Fact]
    public void Relu6_becomes_relu_only_inside_equalized_pairs()
    {
        using var graph = InvertedResidual(relu6: true);
        var (equalized, result) = CrossLayerEqualization.Apply(graph);
        using (equalized)
        {
            Assert.Equal(["expand", "dw"], result.Relu6Replaced);
            // The clamp after the projection has no conv after it: it stays ReLU6.
            Assert.Equal(3, graph.Nodes.OfType<ClampNode>().Count());
            Assert.Equal(2, equalized.Nodes.OfType<ReLUNode>().Count());
            var kept = Assert.Single(equalized.Nodes.OfType<ClampNode>());
            Assert.Equal(graph.Output, kept.Output);
        }
    }

    [Fact]
    public void Mobilenet_v2_equalizes_every_conv_chain_its_blocks_form()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.MobileNetV2Cifar, 1, seed: 3);
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        var (equalized, result) = CrossLayerEqualization.Apply(captured);
        using (equalized)
        {
            output.WriteLine(result.Describe());
            // Stem -> block 0's depthwise -> its projection; expand -> depthwise -> project in blocks 1-16 (ReLU6 between);
            // a projection straight into the next conv where neither block has a residual add: features.1 -> 2, features.17 -> 18.
            Assert.Equal(2 + 2 * 16 + 2, result.Pairs.Count);
            Assert.Equal(2 + 2 * 16, result.Relu6Replaced.Count);
            Assert.Contains(new EqualizedPair("features.17.conv.2", "features.18.0", false), result.Pairs);
            Assert.True(result.Converged, result.Describe());
        }
    }

    [Fact]
    public void An_equalized_mobilenet_v2_round_trips_through_the_int8_checkpoint()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.MobileNetV2Cifar, 1, seed: 5);
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        var (equalized, result) = CrossLayerEqualization.Apply(captured);
        using (equalized)
        using (var prepared = QuantizePt2e.Prepare(equalized, QuantizedModels.Default()))
        {
            QuantizePt2e.Calibrate(prepared, QuantizedModels.RandomBatches([8, 1, 32, 32], 2));
            using var quantized = QuantizePt2e.Convert(prepared);
            var bytes = Int8SafeTensorsCheckpoint.Serialize(quantized, new Int8ModelDescriptor(ModelZoo.MobileNetV2Cifar, [1, 32, 32], 10));

            // The rebuilt graph re-captures the zoo architecture, whose ReLU6s the checkpoint's relu_layers turn into ReLUs.
            var (loaded, _) = Int8SafeTensorsCheckpoint.Load(bytes);
            using (loaded)
            using (var input = randn(4, 1, 32, 32))
            using (var expected = FakeQuantizedGraphInterpreter.Run(quantized, input))
            using (var actual = FakeQuantizedGraphInterpreter.Run(loaded, input))
            {
                Assert.Equal(result.Relu6Replaced.Order(StringComparer.Ordinal), loaded.Graph.Nodes.OfType<Conv2dNode>().Where(c => c.Relu).Select(c => c.Name).Order(StringComparer.Ordinal));
                Assert.Equal(quantized.Graph.Nodes.OfType<ClampNode>().Count(), loaded.Graph.Nodes.OfType<ClampNode>().Count());
                Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5), $"outputs differ by {(actual - expected).abs().max().item<float>():G3}");
            }
        }
    }

    // Largest |r1_i / max r1 - r2_i / max r2| over the channels the two convs share: 0 once equalized (DFQ's criterion).
    private static double RangeMismatch(Conv2dNode first, Conv2dNode second)
    {
        using var scope = NewDisposeScope();
        var r1 = CrossLayerEqualization.OutputChannelRanges(first.Weight);
        var r2 = CrossLayerEqualization.InputChannelRanges(second.Weight, second.Groups);
        return (r1 / r1.max() - r2 / r2.max()).abs().max().item<float>();
    }

    // Weights alone are quantized (per tensor, symmetric int8, as PyTorch's per-tensor weight observer), activations stay FP32.
    private static double PerTensorSqnr(ModelGraph graph, Tensor input, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var nodes = graph.Nodes.Select(n => n is Conv2dNode conv ? conv with { Weight = FakeQuantizePerTensor(conv.Weight) } : n).ToList();
        using var quantized = new ModelGraph(nodes, graph.Input, graph.Output);
        var result = GraphInterpreter.Run(quantized, input);
        return 10 * Math.Log10(reference.square().sum().item<float>() / (reference - result).square().sum().item<float>());
    }

    private static Tensor FakeQuantizePerTensor(Tensor weight)
    {
        var scale = weight.abs().max().item<float>() / 127.0;
        var q = QuantizedDecomposed.QuantizePerTensor(weight, scale, 0, -128, 127, ScalarType.Int8);
        return QuantizedDecomposed.DequantizePerTensor(q, scale, 0, -128, 127, ScalarType.Int8);
    }

    private static Conv2dNode Conv(ModelGraph graph, string name) => graph.Nodes.OfType<Conv2dNode>().Single(c => c.Name == name);

    private static Tensor Images(long count)
    {
        manual_seed(11);
        return randn(count, InChannels, Size, Size);
    }

    // expand 1x1 (8 -> 32), act, depthwise 3x3 (32), act, project 1x1 (32 -> 8), act; act is ReLU or ReLU6 (clamp 0..6).
    private ModelGraph InvertedResidual(bool relu6)
    {
        manual_seed(7);
        using var scope = NewDisposeScope();
        // Output channel i scaled by 10^u, u uniform in [-2, 1]: ranges three orders of magnitude apart, as DFQ's Fig. 2.
        Tensor Weight(params long[] shape) => Keep(randn(shape) * (rand(shape[0], 1, 1, 1) * 3 - 2).mul(Math.Log(10)).exp() * 0.3);
        var v = Enumerable.Range(0, 7).Select(i => new GraphValue(i)).ToArray();
        GraphNode Act(GraphValue output, GraphValue input) => relu6 ? new ClampNode(output, input, 0, 6) : new ReLUNode(output, input);
        return new ModelGraph(
        [
            new InputNode(v[0], [1, InChannels, Size, Size]),
            new Conv2dNode(v[1], "expand", v[0], Weight(Hidden, InChannels, 1, 1), Keep(randn(Hidden) * 0.1), [1, 1], [0, 0], [1, 1], 1),
            Act(v[2], v[1]),
            new Conv2dNode(v[3], "dw", v[2], Weight(Hidden, 1, 3, 3), Keep(randn(Hidden) * 0.1), [1, 1], [1, 1], [1, 1], Hidden),
            Act(v[4], v[3]),
            new Conv2dNode(v[5], "project", v[4], Weight(InChannels, Hidden, 1, 1), Keep(randn(InChannels) * 0.1), [1, 1], [0, 0], [1, 1], 1),
            Act(v[6], v[5]),
        ], v[0], v[6]);
    }

    private Tensor Keep(Tensor tensor)
    {
        weights.Add(tensor.MoveToOuterDisposeScope());
        return tensor;
    }

    public void Dispose() => weights.ForEach(w => w.Dispose());
}

using Microsoft.ML.OnnxRuntime;
using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Runtime.Onnx;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Onnx;

[Collection(GlobalGeneratorCollection.Name)]
public class OnnxRuntimeModelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(ModelZoo.ResNet20, 1)]
    [InlineData(ModelZoo.ResNet18Cifar, 3)]
    public void Fp32_export_run_by_ort_matches_the_eager_model(string name, long channels)
    {
        using var model = TestModels.RandomZooModel(name, channels, seed: 11);
        using var captured = GraphBuilder.Capture(model, [1, channels, 32, 32]);
        using var graph = TestModels.FoldedAndFused(captured);
        using var input = randn(8, channels, 32, 32);
        using var expected = model.call(input);
        using var files = new TempDirectory();
        OnnxExporter.Save(OnnxExporter.ExportFp32(graph), files.File("fp32.onnx"));

        using var ort = OnnxRuntimeModel.Load(files.File("fp32.onnx"));
        using var actual = ort.Run(input);

        Assert.Equal(expected.shape, actual.shape);
        AssertClose(expected, actual, 1e-4);
        Assert.Equal(new FileInfo(files.File("fp32.onnx")).Length, ort.SizeBytes);
    }

    [Fact]
    public void A_session_whose_threads_do_not_spin_computes_the_same_logits()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 13);
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        using var graph = TestModels.FoldedAndFused(captured);
        using var input = randn(8, 1, 32, 32);
        using var files = new TempDirectory();
        OnnxExporter.Save(OnnxExporter.ExportFp32(graph), files.File("fp32.onnx"));

        using var spinning = OnnxRuntimeModel.Load(files.File("fp32.onnx"), new OnnxRuntimeOptions(IntraOpThreads: 2));
        using var quiet = OnnxRuntimeModel.Load(files.File("fp32.onnx"), new OnnxRuntimeOptions(IntraOpThreads: 2, AllowSpinning: false));
        using var expected = spinning.Run(input);
        using var actual = quiet.Run(input);

        Assert.True(expected.contiguous().bytes.SequenceEqual(actual.contiguous().bytes), "the sessions' logits differ");
    }

    [Fact]
    public void Unfolded_graph_exports_batch_norm_and_relu_nodes_that_ort_runs_alike()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 12);
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        using var input = randn(4, 1, 32, 32);
        using var expected = model.call(input);
        using var files = new TempDirectory();
        var onnx = OnnxExporter.ExportFp32(captured);
        OnnxExporter.Save(onnx, files.File("unfolded.onnx"));

        using var ort = OnnxRuntimeModel.Load(files.File("unfolded.onnx"), new OnnxRuntimeOptions(GraphOptimizationLevel.ORT_DISABLE_ALL));
        using var actual = ort.Run(input);

        Assert.Equal(21, OnnxExporter.OpTypeCounts(onnx)["BatchNormalization"]);
        AssertClose(expected, actual, 1e-4);
    }

    [Fact]
    public void Max_pool_and_flatten_match_the_interpreter()
    {
        var nodes = new GraphNode[]
        {
            new InputNode(new GraphValue(0), [1, 2, 9, 9]),
            new MaxPool2dNode(new GraphValue(1), new GraphValue(0), [3, 3], [2, 2], [1, 1]),
            new FlattenNode(new GraphValue(2), new GraphValue(1), 1),
        };
        using var graph = new ModelGraph(nodes, new GraphValue(0), new GraphValue(2));
        using var input = randn(3, 2, 9, 9);
        using var expected = GraphInterpreter.Run(graph, input);
        using var files = new TempDirectory();
        OnnxExporter.Save(OnnxExporter.ExportFp32(graph), files.File("pool.onnx"));

        using var ort = OnnxRuntimeModel.Load(files.File("pool.onnx"));
        using var actual = ort.Run(input);

        Assert.Equal(expected.shape, actual.shape);
        AssertClose(expected, actual, 0);
    }

    [Theory]
    [InlineData(ModelZoo.ResNet20, 1, 256, true)]
    [InlineData(ModelZoo.ResNet20, 1, 256, false)]
    [InlineData(ModelZoo.ResNet18Cifar, 3, 128, true)]
    public void Qdq_export_run_by_ort_agrees_with_the_fake_quant_simulation(string name, long channels, long samples, bool perChannelWeights)
    {
        using var model = TestModels.RandomZooModel(name, channels, seed: 21);
        using var quantized = QuantizedModels.Quantize(
            model, [1, channels, 32, 32], QuantizedModels.Default(perChannelWeights), batches: 4, batchSize: 32);
        using var input = randn(samples, channels, 32, 32);
        using var expected = WithInt32Biases(quantized, input);
        using var fp32Biases = FakeQuantizedGraphInterpreter.Run(quantized, input);
        using var files = new TempDirectory();
        OnnxExporter.Save(OnnxExporter.ExportQdq(quantized), files.File("int8.onnx"));

        using var ort = OnnxRuntimeModel.Load(files.File("int8.onnx"));
        using var actual = ort.Run(input);

        var outputStep = quantized.QuantizationOf(quantized.Graph.Output).Scale;
        // Both outputs lie on the output's quantization grid (ORT dequantizes its uint8 output, the simulation fake-quantizes
        // it), so they differ by whole steps; rounding drops the float error of the division.
        using var steps = ((actual - expected).abs() / outputStep).round();
        var (maxSteps, meanSteps) = (steps.max().item<float>(), steps.mean().item<float>());
        var agreement = TopOneAgreement.Of(actual, expected, outputStep);
        using var fp32BiasSteps = (actual - fp32Biases).abs() / outputStep;
        output.WriteLine($"{name} (per-channel weights: {perChannelWeights}): {agreement}, " +
            $"|ORT - simulation| max {maxSteps:F2}, mean {meanSteps:F3} output steps of {outputStep:G3}; " +
            $"with fp32 biases max {fp32BiasSteps.max().item<float>():F2}, mean {fp32BiasSteps.mean().item<float>():F3}");
        // An overall 95 % bar failed once in CI (2026-12-08: 94.14 % overall, 100 % of 202 decisive inputs).
        Assert.True(agreement.Holds(0.99), agreement.ToString());
        // Rounding ties that float accumulation order breaks differently flip single steps, which a deep net amplifies:
        // resnet18-cifar's worst logit was 3-4 steps off on the net and inputs drawn from seed 21 (mean 0.55). Two CI runs
        // saw 5 and 6 (means 0.83 and 1.31) when tests running beside this one drew from torch's global generator between
        // its draws and so handed it other random nets; the class now runs alone (GlobalGeneratorCollection).
        Assert.True(maxSteps <= 5 && meanSteps <= 1, $"logits differ by up to {maxSteps:F2}, on average {meanSteps:F3} quantization steps");
    }

    [Fact]
    public void Ort_enable_all_fuses_the_qdq_model_into_integer_kernels()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 31);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(), batches: 1, batchSize: 16);
        using var files = new TempDirectory();
        OnnxExporter.Save(OnnxExporter.ExportQdq(quantized), files.File("int8.onnx"));

        using (OnnxRuntimeModel.Load(files.File("int8.onnx"), new OnnxRuntimeOptions(OptimizedModelPath: files.File("int8.optimized.onnx"))))
        {
        }
        var ops = OnnxExporter.OpTypeCounts(OnnxExporter.Load(files.File("int8.optimized.onnx")));

        output.WriteLine(string.Join(", ", ops.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.Equal(21, ops.GetValueOrDefault("QLinearConv"));
        Assert.False(ops.ContainsKey("Conv"), "a Conv stayed in float");
    }

    /// <summary>
    /// What ORT computes: <see cref="FakeQuantizedGraphInterpreter"/> adds the fp32 bias (as PyTorch's x86 kernels take
    /// it), but the QDQ file stores round(bias / (input_scale × weight_scale)) as int32, so the reference here snaps each
    /// bias to that grid first, exactly as the exporter does; what remains is float vs int32 accumulation.
    /// </summary>
    private static Tensor WithInt32Biases(QuantizedGraph quantized, Tensor input)
    {
        using var scope = NewDisposeScope();
        var inputs = quantized.Graph.Nodes
            .Select(n => n switch { Conv2dNode c => (c.Name, c.Input), LinearNode l => (l.Name, l.Input), _ => default })
            .Where(n => n.Name is not null)
            .ToDictionary(n => n.Name, n => n.Input);
        var weights = quantized.Weights.ToDictionary(w => w.Key, w =>
        {
            if (w.Value.Bias is not { } bias)
            {
                return w.Value;
            }
            var inputScale = (double)(float)quantized.QuantizationOf(inputs[w.Key]).Scale;
            var biasScale = (w.Value.Scales.to(float32).to(float64) * inputScale).to(float32);
            var intBias = (bias.to(float64) / biasScale.to(float64)).round();
            return w.Value with { Bias = (intBias.to(float32) * biasScale).to(float32) };
        });
        // Shares the graph and int8 weights with quantized, so it is not disposed; the scope frees the snapped biases.
        var snapped = new QuantizedGraph(quantized.Graph, quantized.Activations, weights, quantized.QConfigDescription);
        return FakeQuantizedGraphInterpreter.Run(snapped, input).MoveToOuterDisposeScope();
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        var maxDiff = (actual - expected).abs().max().item<float>();
        Assert.True(maxDiff <= tolerance * Math.Max(1, expected.abs().max().item<float>()), $"max |diff| {maxDiff}");
    }
}

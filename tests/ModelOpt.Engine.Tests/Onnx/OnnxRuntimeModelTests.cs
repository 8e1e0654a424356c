using Microsoft.ML.OnnxRuntime;
using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Runtime.Onnx;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Onnx;

public class OnnxRuntimeModelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(ModelZoo.ResNet20, 1)]
    [InlineData(ModelZoo.ResNet18Cifar, 3)]
    public void Fp32_export_run_by_ort_matches_the_eager_model(string name, long channels)
    {
        using var model = OnnxTestModels.Create(name, channels, seed: 11);
        using var captured = OnnxTestModels.Capture(model, channels);
        using var graph = OnnxTestModels.FoldedAndFused(captured);
        using var input = OnnxTestModels.Batch(8, channels);
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
    public void Unfolded_graph_exports_batch_norm_and_relu_nodes_that_ort_runs_alike()
    {
        using var model = OnnxTestModels.Create(ModelZoo.ResNet20, 1, seed: 12);
        using var captured = OnnxTestModels.Capture(model, 1);
        using var input = OnnxTestModels.Batch(4, 1);
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
        using var model = OnnxTestModels.Create(name, channels, seed: 21);
        using var captured = OnnxTestModels.Capture(model, channels);
        using var quantized = MinMaxTestQuantizer.Quantize(captured, Enumerable.Range(0, 4).Select(_ => OnnxTestModels.Batch(32, channels)), perChannelWeights);
        using var input = OnnxTestModels.Batch(samples, channels);
        using var expected = FakeQuantReference.Run(quantized, input);
        using var files = new TempDirectory();
        OnnxExporter.Save(OnnxExporter.ExportQdq(quantized), files.File("int8.onnx"));

        using var ort = OnnxRuntimeModel.Load(files.File("int8.onnx"));
        using var actual = ort.Run(input);

        var outputStep = quantized.QuantizationOf(quantized.Graph.Output).Scale;
        using var steps = (actual - expected).abs() / outputStep;
        var (maxSteps, meanSteps) = (steps.max().item<float>(), steps.mean().item<float>());
        using var agrees = actual.argmax(1).eq(expected.argmax(1));
        // Random-weight nets put their top two logits within a few steps for many inputs; a step of rounding noise may
        // legitimately swap those, so the 99 % bar applies to inputs the simulation decides by more than 2 steps.
        using var topTwo = expected.topk(2, 1).values;
        using var decisive = (topTwo[.., 0] - topTwo[.., 1]).gt(2 * outputStep);
        var agreement = agrees.to(float32).mean().item<float>();
        var decisiveAgreement = agrees[decisive].to(float32).mean().item<float>();
        output.WriteLine($"{name} (per-channel weights: {perChannelWeights}): top-1 agreement {agreement:P2} (decisive inputs {decisiveAgreement:P2} of {decisive.sum().item<long>()}), " +
            $"|ORT - simulation| max {maxSteps:F2}, mean {meanSteps:F3} output steps of {outputStep:G3}");
        Assert.True(decisiveAgreement >= 0.99 && agreement >= 0.95, $"top-1 agreement {agreement:P2}, on decisive inputs {decisiveAgreement:P2}");
        // Rounding ties that float accumulation order breaks differently flip single steps, which a deep net amplifies.
        Assert.True(maxSteps <= 4 && meanSteps <= 1, $"logits differ by up to {maxSteps:F2}, on average {meanSteps:F3} quantization steps");
    }

    [Fact]
    public void Ort_enable_all_fuses_the_qdq_model_into_integer_kernels()
    {
        using var model = OnnxTestModels.Create(ModelZoo.ResNet20, 1, seed: 31);
        using var captured = OnnxTestModels.Capture(model, 1);
        using var quantized = MinMaxTestQuantizer.Quantize(captured, [OnnxTestModels.Batch(16, 1)]);
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

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        var maxDiff = (actual - expected).abs().max().item<float>();
        Assert.True(maxDiff <= tolerance * Math.Max(1, expected.abs().max().item<float>()), $"max |diff| {maxDiff}");
    }
}

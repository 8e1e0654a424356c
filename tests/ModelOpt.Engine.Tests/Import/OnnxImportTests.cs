using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Runtime.Onnx;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Import;

public class OnnxImportTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, string> Fixtures => OnnxFixtures.All();

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Imported_graph_computes_pytorch_and_onnx_runtime_fp32_logits(string model, string file)
    {
        using var imported = OnnxImporter.Import(OnnxFixtures.PathOf(file));
        using var inputs = OnnxFixtures.Inputs();
        using var pytorch = OnnxFixtures.Fp32Logits(model);
        using var runtime = OnnxRuntimeModel.Load(OnnxFixtures.PathOf(file));
        using var ort = FixedBatch(file) ? RunOneByOne(runtime.Run, inputs) : runtime.Run(inputs);

        using var actual = GraphInterpreter.Run(imported.Graph, inputs);

        var vsPytorch = OnnxFixtures.RelativeError(actual, pytorch);
        var vsOrt = OnnxFixtures.RelativeError(actual, ort);
        output.WriteLine($"{file}: relative error vs PyTorch {vsPytorch:E2}, vs ONNX Runtime {vsOrt:E2}");
        Assert.True(vsPytorch <= Tolerance, $"vs PyTorch: {vsPytorch:E2}");
        Assert.True(vsOrt <= Tolerance, $"vs ONNX Runtime: {vsOrt:E2}");
    }

    public static TheoryData<string> FixtureFiles => [.. OnnxFixtures.Files().Select(f => f.File)];

    [Theory]
    [MemberData(nameof(FixtureFiles))]
    public void Input_shape_and_classes_come_from_the_graph(string file)
    {
        using var imported = OnnxImporter.Import(OnnxFixtures.PathOf(file));

        Assert.Equal([1L, 32, 32], imported.InputShape);
        Assert.Equal(10, imported.NumClasses);
    }

    [Theory]
    [InlineData("vgg_like_opset11_nofold_fixed.onnx")] // shape arithmetic folded, BN unfolded
    [InlineData("squeeze_excite_opset13_dynamic.onnx")]
    public void Importing_and_disposing_leaves_no_live_tensors(string file)
    {
        OnnxImporter.Import(OnnxFixtures.PathOf(file)).Dispose();

        DisposeScopeManager.Statistics.Reset();
        OnnxImporter.Import(OnnxFixtures.PathOf(file)).Dispose();

        Assert.Equal(0, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Every_op_the_issue_lists_has_a_converter()
    {
        string[] listed =
        [
            "Conv", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Add", "Mul", "Concat",
            "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Shape", "Gather", "Unsqueeze", "Gemm",
            "MatMul", "Dropout", "Identity", "Constant", "Pad", "Softmax",
        ];

        Assert.Empty(listed.Except(OnnxImporter.SupportedOps));
    }

    /// <summary>The GELU fixture (Erf, Div, Mul on constants) was the refused example before ADR-015; it now imports exactly.</summary>
    [Fact]
    public void The_gelu_fixture_imports_and_computes_onnx_runtime_logits()
    {
        using var imported = OnnxImporter.Import(OnnxFixtures.PathOf(OnnxFixtures.UnsupportedFile));
        using var inputs = OnnxFixtures.Inputs();
        using var runtime = OnnxRuntimeModel.Load(OnnxFixtures.PathOf(OnnxFixtures.UnsupportedFile));
        using var expected = runtime.Run(inputs);

        using var actual = GraphInterpreter.Run(imported.Graph, inputs);

        Assert.Contains(imported.Graph.Nodes, n => n is FloatOpNode { Op.OpType: "Erf" });
        Assert.True(OnnxFixtures.RelativeError(actual, expected) <= Tolerance, $"vs ONNX Runtime: {OnnxFixtures.RelativeError(actual, expected):E2}");
    }

    [Fact]
    public void Truncated_file_is_a_format_error_naming_the_file()
    {
        var bytes = File.ReadAllBytes(OnnxFixtures.PathOf("mobilenet_v2_like_opset13_dynamic.onnx"));
        using var truncated = new MemoryStream(bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<OnnxFormatException>(() => OnnxImporter.Import(truncated, "mine.onnx"));

        Assert.StartsWith("'mine.onnx' is not a readable ONNX model", e.Message);
    }

    [Fact]
    public void Random_bytes_are_a_format_error()
    {
        using var garbage = new MemoryStream([.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251))]);

        Assert.Throws<OnnxFormatException>(() => OnnxImporter.Import(garbage, "noise.onnx"));
    }

    private static bool FixedBatch(string file) => file.Contains("_fixed");

    /// <summary>A fixed-batch export runs in ONNX Runtime one image at a time; ModelOpt runs it at any batch size.</summary>
    private static Tensor RunOneByOne(Func<Tensor, Tensor> run, Tensor inputs) =>
        cat(Enumerable.Range(0, (int)inputs.shape[0]).Select(i => run(inputs[i..(i + 1)])).ToList(), 0);
}

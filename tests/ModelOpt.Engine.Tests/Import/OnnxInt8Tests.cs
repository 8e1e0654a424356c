using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Runtime.Onnx;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Onnx;
using ModelOpt.Engine.Tests.Runtime;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>
/// Every ONNX fixture quantized with the x86 recipe (calibrated on the 32 recorded inputs, as the fixture script
/// calibrated PyTorch FX), built on both int8 backends and compared with the fake-quant reference and with PyTorch
/// FX's int8 model of the same weights.
/// </summary>
[Collection(QuantizedEngineCollection.Name)]
public class OnnxInt8Tests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Fixtures => OnnxFixtures.All();

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Imported_model_converts_and_both_int8_backends_agree_with_the_references(string model, string file)
    {
        using var inputs = OnnxFixtures.Inputs();
        using var imported = OnnxImporter.Import(OnnxFixtures.PathOf(file));
        using var quantized = Quantize(imported, inputs);
        using var torchScript = TorchScriptInt8Model.Build(quantized);
        using var directory = new TempDirectory();
        var qdqPath = Path.Combine(directory.Path, "int8.onnx");
        OnnxExporter.Save(OnnxExporter.ExportQdq(quantized), qdqPath);
        using var qdq = OnnxRuntimeModel.Load(qdqPath);
        using var fx = OnnxFixtures.FxInt8Logits(model);
        using var fp32 = OnnxFixtures.Fp32Logits(model);

        using var int8 = torchScript.Run(inputs);
        using var ort = qdq.Run(inputs);
        using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, inputs);

        var tsVsFake = OnnxFixtures.Top1Agreement(int8, simulated);
        var ortVsFake = OnnxFixtures.Top1Agreement(ort, simulated);
        var tsVsFx = OnnxFixtures.Top1Agreement(int8, fx);
        var fxVsFp32 = OnnxFixtures.Top1Agreement(fx, fp32);
        var tsVsFp32 = OnnxFixtures.Top1Agreement(int8, fp32);
        output.WriteLine($"{file}: top-1 agreement TorchScript vs fake-quant {tsVsFake:P1}, ORT QDQ vs fake-quant {ortVsFake:P1}, " +
                         $"TorchScript vs FX int8 {tsVsFx:P1}; vs FP32: ModelOpt int8 {tsVsFp32:P1}, FX int8 {fxVsFp32:P1}; " +
                         $"relative error vs fake-quant {OnnxFixtures.RelativeError(int8, simulated):E2}");
        Assert.Equal([32L, 10], int8.shape);
        Assert.True(tsVsFake >= 0.95, $"TorchScript int8 vs fake-quant: {tsVsFake:P1}");
        Assert.True(ortVsFake >= 0.9, $"ONNX Runtime QDQ vs fake-quant: {ortVsFake:P1}");
        Assert.True(tsVsFx >= 0.8, $"TorchScript int8 vs PyTorch FX int8: {tsVsFx:P1}");
    }

    /// <summary>
    /// A TorchScript compile error aborts the process (ADR-004), so the fixtures holding every new op (cat, both average
    /// pools, max pool, clamp, leaky relu / sigmoid / hardsigmoid / hardswish, mul, softmax) are built under every option.
    /// </summary>
    [Theory]
    [MemberData(nameof(TorchScriptInt8ModelTests.EveryQuantizationOption), MemberType = typeof(TorchScriptInt8ModelTests))]
    public void New_ops_build_and_match_the_fake_quant_reference_under_every_quantization_option(string observer, bool perChannel, bool symmetric)
    {
        var qconfig = QConfigFactory.FromOptions(new QuantizationOptions { ActivationObserver = observer, PerChannelWeights = perChannel, SymmetricActivations = symmetric });
        using var inputs = OnnxFixtures.Inputs();
        foreach (var file in new[] { "inception_like_opset13_dynamic.onnx", "squeeze_excite_opset14_nofold_dynamic.onnx" })
        {
            using var imported = OnnxImporter.Import(OnnxFixtures.PathOf(file));
            using var quantized = Quantize(imported, inputs, qconfig);
            using var int8 = TorchScriptInt8Model.Build(quantized);
            using var actual = int8.Run(inputs);
            using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, inputs);

            var agreement = OnnxFixtures.Top1Agreement(actual, simulated);
            Assert.True(agreement >= 0.9, $"{file} {observer} per-channel={perChannel} symmetric={symmetric}: top-1 agreement {agreement:P1}");
        }
    }

    [Fact]
    public void Squeeze_excite_gate_stays_fp32_and_is_listed()
    {
        var (source, floats) = Generate("squeeze_excite_opset14_nofold_dynamic.onnx");

        Assert.Contains(floats, n => n.EndsWith("(Sigmoid)"));
        Assert.Contains(floats, n => n.EndsWith("(Mul)"));
        Assert.Contains(floats, n => n.EndsWith("(Softmax)"));
        Assert.Contains(floats, n => n.EndsWith("(HardSwish)"));
        Assert.Contains("torch.sigmoid(", source);
    }

    [Fact]
    public void Mobilenet_runs_entirely_in_int8()
    {
        var (source, floatNodes) = Generate("mobilenet_v2_like_opset13_dynamic.onnx");

        Assert.Empty(floatNodes);
        Assert.Contains("torch.clamp(q_", source); // ReLU6 on the int8 tensor
        Assert.Single(source.Split('\n'), l => l.Contains("torch.dequantize("));
    }

    [Fact]
    public void Inception_branches_join_in_a_quantized_cat()
    {
        var (source, _) = Generate("inception_like_opset13_dynamic.onnx");

        Assert.Contains("ops.quantized.cat([", source);
        // The 3x3 pool counting its padding averages in FP32; the strided one without counted padding (divisors 4, 6, 9
        // at the edges) keeps LibTorch's kernel; the max pool runs on the plain uint8 values (issue 28).
        Assert.Contains("torch.avg_pool2d(torch.dequantize(q_", source);
        Assert.Contains("torch.avg_pool2d(q_", source);
        Assert.Contains("torch.maximum(", source);
        Assert.DoesNotContain("torch.max_pool2d(", source);
    }

    /// <summary>
    /// ShuffleNetV2's channel split (Split / Slice) and channel shuffle (Reshape, Transpose, Reshape) only move data, so
    /// they run on the int8 tensor with its qparams, as pooling does: no dequantize / quantize around them (a FP32 round
    /// trip there cost 15 % of a small ShuffleNet's int8 time, docs/BENCHMARKS.md), and the int8 model still computes
    /// the fake-quant reference.
    /// </summary>
    [Fact]
    public void Shufflenet_channel_split_and_shuffle_move_int8_data()
    {
        var fixture = ZooOnnxFixtures.Get("shufflenet_v2_x1_0_opset13.onnx");
        using var calibration = ZooOnnxFixtures.Images(fixture, 8, seed: 1);
        using var inputs = ZooOnnxFixtures.Images(fixture, 8, seed: 2);
        using var imported = ZooOnnxFixtures.Import(fixture);
        using var prepared = QuantizePt2e.Prepare(imported.Graph, X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [calibration]);
        using var quantized = QuantizePt2e.Convert(prepared);
        var source = TorchScriptInt8Generator.Generate(quantized).Source;
        using var int8 = TorchScriptInt8Model.Build(quantized);
        using var actual = int8.Run(inputs);
        using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, inputs);

        var sqnr = ZooOnnxChecks.SqnrOfInputDependentPart(actual, simulated);
        output.WriteLine($"FP32 nodes: {string.Join(", ", quantized.FloatNodes())}; TorchScript int8 vs fake-quant SQNR {sqnr:F1} dB");
        Assert.DoesNotContain(quantized.FloatNodes(), n => n.EndsWith("(Reshape)") || n.EndsWith("(Transpose)") || n.EndsWith("(Slice)"));
        Assert.Contains("torch.permute(q_", source);
        Assert.Contains("torch.narrow(q_", source);
        Assert.Single(source.Split('\n'), l => l.Contains("torch.dequantize("));
        Assert.True(sqnr >= 30, $"TorchScript int8 vs fake-quant: SQNR {sqnr:F1} dB");
    }

    /// <summary>The generated TorchScript source and the FP32 nodes of a fixture quantized on the recorded inputs.</summary>
    private static (string Source, IReadOnlyList<string> FloatNodes) Generate(string file)
    {
        using var inputs = OnnxFixtures.Inputs();
        using var imported = OnnxImporter.Import(OnnxFixtures.PathOf(file));
        using var quantized = Quantize(imported, inputs);
        return (TorchScriptInt8Generator.Generate(quantized).Source, quantized.FloatNodes());
    }

    /// <summary>The result borrows the imported graph's unfolded weights: dispose it first.</summary>
    private static QuantizedGraph Quantize(ImportedOnnxModel imported, Tensor inputs, QConfig? qconfig = null)
    {
        using var prepared = QuantizePt2e.Prepare(imported.Graph, qconfig ?? X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [inputs]);
        return QuantizePt2e.Convert(prepared);
    }
}

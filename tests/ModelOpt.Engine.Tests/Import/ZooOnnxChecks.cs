using Microsoft.ML.OnnxRuntime;
using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Onnx;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>
/// The two checks every ONNX zoo fixture gets, with ONNX Runtime on the same file as the independent reference:
/// ModelOpt's FP32 graph computes ONNX Runtime's outputs, and both int8 forms ModelOpt delivers (the TorchScript archive
/// in LibTorch, the QDQ ONNX model in ONNX Runtime) load from their files, run, and stay close to FP32.
/// </summary>
internal static class ZooOnnxChecks
{
    /// <summary>ONNX Runtime and ModelOpt both compute in FP32 with different op orders; 1e-4 of the output's scale.</summary>
    public const double Fp32Tolerance = 1e-4;

    /// <summary>
    /// The int8 measure, per output and per form: the signal-to-quantization-noise ratio of the input-dependent part,
    /// SQNR = 10 log10(Σ (f − mean_batch f)² / Σ (q − f)²), f the FP32 output, q the int8 one (subtracting the batch
    /// mean keeps a constant offset — a bias, a sigmoid's 0.5 — from hiding the error). On random weights it is low
    /// and varies from net to net (PyTorch FX's int8 reaches 5-25 dB on these fixtures), so the bound is PyTorch's own
    /// figure on the same weights, images and calibration images, less <see cref="FxMarginDb"/> for the two
    /// quantizers' different observers and recipes (x86 inductor recipe here, onednn qconfig in FX).
    /// </summary>
    public const double FxMarginDb = 3;

    /// <summary>
    /// Where FX cannot quantize the net (a trace error, ConvTranspose per-channel) or there is no PyTorch model (the
    /// other-exporter graph): a gross-error bound, an RMS error at most 56 % of the input-dependent signal — what FX
    /// reaches on the weakest random nets here (efficientnet_b0, inception_v3: 5.5-5.8 dB); a wrong kernel, scale or
    /// layout gives 0 dB or below.
    /// </summary>
    public const double MinInt8SqnrDbWithoutReference = 5;

    private static int EvaluationImages => ZooOnnxFixtures.Manifest.TestImages.Evaluation;

    private static int CalibrationImages => ZooOnnxFixtures.Manifest.TestImages.Calibration;

    private const long EvaluationSeed = ZooOnnxFixtures.EvaluationSeed, CalibrationSeed = ZooOnnxFixtures.CalibrationSeed;

    public static void Fp32EqualsOnnxRuntime(string file, ITestOutputHelper output)
    {
        var fixture = ZooOnnxFixtures.Get(file);
        using var inputs = ZooOnnxFixtures.Images(fixture, EvaluationImages, EvaluationSeed);
        using var expected = OnnxRuntimeOutputs.Run(ZooOnnxFixtures.PathOf(file), inputs);
        Assert.Equal(fixture.Outputs.Select(o => o.Name), expected.Names); // the manifest describes the file

        for (var i = 0; i < fixture.Outputs.Count; i++)
        {
            using var imported = ZooOnnxFixtures.Import(fixture, i);
            using var actual = ZooOnnxFixtures.RunFp32(imported, inputs);
            var error = OnnxFixtures.RelativeError(actual, expected.Values[i]);
            output.WriteLine($"{file} output '{expected.Names[i]}' {Shape(expected.Values[i])}: relative error vs ONNX Runtime {error:E2}");
            Assert.True(error <= Fp32Tolerance, $"{file} output '{expected.Names[i]}': relative error vs ONNX Runtime {error:E2}");
        }
    }

    /// <summary>Each output in turn: the graph imported for that output, quantized, and both int8 forms saved, loaded and run.</summary>
    public static void Int8FormsStayCloseToFp32(string file, ITestOutputHelper output)
    {
        var fixture = ZooOnnxFixtures.Get(file);
        using var inputs = ZooOnnxFixtures.Images(fixture, EvaluationImages, EvaluationSeed);
        using var calibration = ZooOnnxFixtures.Images(fixture, CalibrationImages, CalibrationSeed);
        for (var i = 0; i < fixture.Outputs.Count; i++)
        {
            using var directory = new TempDirectory();
            var torchScriptPath = directory.File("model-int8.pt");
            var qdqPath = directory.File("model-int8.onnx");
            using var imported = ZooOnnxFixtures.Import(fixture, i);
            using var fp32 = ZooOnnxFixtures.RunFp32(imported, inputs);
            // The quantized graph borrows the imported graph's weights: it is disposed first.
            using (var prepared = QuantizePt2e.Prepare(imported.Graph, X86InductorQuantizer.GetDefaultQuantizationConfig()))
            {
                QuantizePt2e.Calibrate(prepared, [calibration]);
                using var quantized = QuantizePt2e.Convert(prepared);
                using (var built = TorchScriptInt8Model.Build(quantized))
                {
                    built.Save(torchScriptPath);
                }
                OnnxExporter.Save(OnnxExporter.ExportQdq(quantized), qdqPath);
                output.WriteLine($"{file} output {i}: FP32 nodes {quantized.FloatNodes().Count}: {string.Join(", ", quantized.FloatNodes().Take(12))}");
            }
            using var torchScript = TorchScriptInt8Model.Load(torchScriptPath);
            using var libTorch = ZooOnnxFixtures.RunInt8(torchScript, inputs);
            using var ort = OnnxRuntimeOutputs.Run(qdqPath, inputs);
            CheckForm(file, "TorchScript int8 (LibTorch)", fixture, i, fp32, libTorch, output);
            CheckForm(file, "QDQ ONNX (ONNX Runtime)", fixture, i, fp32, Assert.Single(ort.Values), output);
        }
    }

    private static void CheckForm(string file, string form, ZooOnnxFixture fixture, int index, Tensor fp32, Tensor int8, ITestOutputHelper output)
    {
        var name = fixture.Outputs[index].Name;
        Assert.Equal(fp32.shape, int8.shape);
        var sqnr = SqnrOfInputDependentPart(int8, fp32);
        var fx = fixture.FxInt8SqnrDb?[index];
        var bound = fx is double reference ? reference - FxMarginDb : MinInt8SqnrDbWithoutReference;
        var classAxis = fixture.ClassAxis ?? (fp32.dim() == 2 ? 1 : (int?)null);
        var agreement = classAxis is int axis ? $", arg-max agreement {ArgMaxAgreement(int8, fp32, axis):P0}" : "";
        var against = fx is null ? $"no FX reference ({fixture.FxInt8Failure ?? "no PyTorch model"})" : $"PyTorch FX int8 {fx:F1} dB";
        output.WriteLine($"{file} {form} output '{name}': SQNR {sqnr:F1} dB ({against}; bound {bound:F1} dB), " +
                         $"cosine {Cosine(int8, fp32):F4}{agreement}");
        Assert.True(sqnr >= bound, $"{file} {form} output '{name}': SQNR {sqnr:F1} dB < {bound:F1} dB ({against})");
    }

    /// <summary>See <see cref="MinInt8SqnrDb"/>.</summary>
    public static double SqnrOfInputDependentPart(Tensor actual, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var signal = (reference - reference.mean([0], keepdim: true)).square().sum().item<float>();
        var noise = (actual - reference).square().sum().item<float>();
        return 10 * Math.Log10(signal / Math.Max(noise, 1e-30));
    }

    public static double Cosine(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim: 0).item<float>();
    }

    /// <summary>The fraction of positions whose arg-max along <paramref name="axis"/> agrees.</summary>
    public static double ArgMaxAgreement(Tensor a, Tensor b, long axis)
    {
        using var scope = NewDisposeScope();
        return (a.argmax(axis) == b.argmax(axis)).to_type(ScalarType.Float32).mean().item<float>();
    }

    private static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

}

/// <summary>Every output of an ONNX model run by ONNX Runtime's CPU provider, named, in the graph's order.</summary>
internal sealed class OnnxRuntimeOutputs : IDisposable
{
    private OnnxRuntimeOutputs(IReadOnlyList<string> names, IReadOnlyList<Tensor> values) => (Names, Values) = (names, values);

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<Tensor> Values { get; }

    public static OnnxRuntimeOutputs Run(string path, Tensor input)
    {
        using var options = new SessionOptions();
        using var session = new InferenceSession(path, options);
        using var runOptions = new RunOptions();
        var values = input.to(float32).contiguous().data<float>().ToArray();
        using var ortInput = OrtValue.CreateTensorValueFromMemory(values, input.shape);
        var names = session.OutputNames.ToList();
        using var results = session.Run(runOptions, [session.InputNames.Single()], [ortInput], names);
        var tensors = results.Select(r => tensor(r.GetTensorDataAsSpan<float>().ToArray(), r.GetTensorTypeAndShape().Shape)).ToList();
        return new OnnxRuntimeOutputs(names, tensors);
    }

    public void Dispose()
    {
        foreach (var value in Values)
        {
            value.Dispose();
        }
    }
}

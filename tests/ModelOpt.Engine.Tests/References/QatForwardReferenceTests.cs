using System.Text.Json;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Qat;
using ModelOpt.Engine.Tests.Checkpoints;
using TorchSharp.Modules;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.References;

/// <summary>
/// ModelOpt's QAT forward before any step against PyTorch 1.13's <c>prepare_qat_fx</c> model on the same checkpoint,
/// written by <c>scripts/qat_reference.py fixture</c> (issue 24): the resnet20 fixture with BatchNorm folded,
/// per-tensor symmetric int8 weights observed on the weight itself, uint8 min-max activations calibrated on the same
/// 32 Fashion-MNIST training images and frozen, run on the committed 32 test images.
/// </summary>
public class QatForwardReferenceTests(ITestOutputHelper output)
{
    private static readonly FxReferences Fx = PyTorchQuantizationReferences.FromTestData.Fx;

    [Fact]
    public void Resnet20_training_forward_before_any_step_is_pytorchs_qat_forward()
    {
        var reference = JsonSerializer.Deserialize<QatForwardReference>(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "references", "qat_forward_resnet20.json")),
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        CheckpointLoader.LoadInto(model, Fixtures.TestData(reference.Checkpoint));
        model.eval();
        var qconfig = QConfigFactory.FromOptions(new QuantizationOptions { ActivationObserver = ActivationObserverNames.MinMax, PerChannelWeights = false });
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        using var prepared = QuantizePt2e.Prepare(captured, qconfig);
        using var calibration = PyTorchQuantizationReferences.Read(Fx.Calibration);
        QuantizePt2e.Calibrate(prepared, [calibration]);
        using var quantized = QuantizePt2e.Convert(prepared);
        var parameters = quantized.Weights.Keys.ToDictionary(layer => layer, layer => quantized.Graph.Nodes.Single(n => X86Name(n) == layer) switch
        {
            Conv2dNode conv => (new Parameter(conv.Weight.clone()), conv.Bias is null ? null : new Parameter(conv.Bias.clone())),
            LinearNode linear => (new Parameter(linear.Weight.clone()), linear.Bias is null ? (Parameter?)null : new Parameter(linear.Bias.clone())),
            var other => throw new InvalidOperationException(other.GetType().Name),
        });
        using var input = PyTorchQuantizationReferences.Read(Fx.Input);

        using var ours = QuantizationAwareTraining.Forward(quantized, parameters, qconfig, input).detach();
        using var pytorch = tensor(reference.Logits.SelectMany(r => r).ToArray(), ours.shape);

        // Both outputs are fake-quantized with the calibrated qparams of the last linear, so they differ by whole steps:
        // measured max 2, mean 0.256 (float32 rounding ties in 20 fake-quantized layers, as FxQuantizedFixtureTests sees).
        var step = quantized.QuantizationOf(quantized.Graph.Output).Scale;
        using var steps = (ours - pytorch).abs() / step;
        var (worst, mean) = (steps.max().item<float>(), steps.mean().item<float>());
        using var agree = ours.argmax(1).eq(pytorch.argmax(1));
        output.WriteLine($"|ModelOpt QAT forward - PyTorch prepare_qat_fx forward| max {worst:F2}, mean {mean:F3} output steps of {step:G4}; " +
            $"top-1 agrees on {agree.sum().item<long>()} of {agree.shape[0]}");
        foreach (var (weight, bias) in parameters.Values)
        {
            weight.Dispose();
            bias?.Dispose();
        }
        Assert.True(worst <= 2 + 1e-3, $"ModelOpt's QAT forward is {worst:F2} output steps from PyTorch's");
        Assert.True(mean <= 0.3, $"on average {mean:F3} output steps from PyTorch's");
    }

    private static string? X86Name(GraphNode node) => ModelOpt.Engine.Quantization.Quantizers.X86InductorQuantizer.LayerName(node);

    private sealed record QatForwardReference(string Torch, string Checkpoint, string Calibration, string Input, string Recipe, float[][] Logits);
}

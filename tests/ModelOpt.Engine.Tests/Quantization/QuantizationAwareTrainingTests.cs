using ModelOpt.Engine.Data;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Qat;
using ModelOpt.Engine.Tests.Support;
using TorchSharp.Modules;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(GlobalGeneratorCollection.Name)]
public class QuantizationAwareTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void The_straight_through_estimator_passes_gradients_inside_the_range_only()
    {
        // scale 0.5, zero point 2, uint8 0..10: the range is [-1, 4].
        using var x = tensor(new[] { -3f, -1f, 0.3f, 1.2f, 3.9f, 4.1f, 9f }).requires_grad_(true);

        using var y = QuantizationAwareTraining.FakeQuantizePerTensor(x, 0.5, 2, 0, 10);
        y.sum().backward();

        Assert.Equal(new[] { -1f, -1f, 0.5f, 1f, 4f, 4f, 4f }, y.detach().data<float>().ToArray());
        Assert.Equal(new[] { 0f, 1f, 1f, 1f, 1f, 0f, 0f }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Per_channel_weights_are_fake_quantized_on_their_own_grid()
    {
        using var w = tensor(new[] { 0.26f, -0.6f, 0.1f, 2.5f }).reshape(2, 2).requires_grad_(true);
        using var scale = tensor(new[] { 0.5, 1.0 });
        using var zeroPoint = tensor(new[] { 0L, 0L });

        using var y = QuantizationAwareTraining.FakeQuantizePerChannel(w, scale, zeroPoint, -1, 1);
        y.sum().backward();

        // Row 0 on multiples of 0.5 within [-0.5, 0.5]; row 1 on integers within [-1, 1].
        Assert.Equal(new[] { 0.5f, -0.5f, 0f, 1f }, y.detach().data<float>().ToArray());
        Assert.Equal(new[] { 1f, 0f, 1f, 0f }, w.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Before_any_step_the_training_forward_is_the_fake_quant_reference()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 31);
        var qconfig = QuantizedModels.Default();
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], qconfig, batches: 2, batchSize: 8);
        var parameters = FloatWeights(quantized).ToDictionary(kv => kv.Key, kv => (new Parameter(kv.Value.Weight.clone()), (Parameter?)(kv.Value.Bias is null ? null : new Parameter(kv.Value.Bias.clone()))));
        using var input = randn(4, 1, 32, 32);

        using var training = QuantizationAwareTraining.Forward(quantized, parameters, qconfig, input);
        using var reference = FakeQuantizedGraphInterpreter.Run(quantized, input);

        var relative = (training.detach() - reference).abs().max().item<float>() / reference.abs().max().item<float>();
        Assert.True(relative < 1e-4, $"training forward differs from the reference by {relative:E2} of the largest logit");
        foreach (var (weight, bias) in parameters.Values)
        {
            weight.Dispose();
            bias?.Dispose();
        }
    }

    [Fact]
    public void Distillation_brings_the_int8_model_closer_to_fp32()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 32);
        model.eval();
        using var data = SyntheticDataset.Create(seed: 3, channels: 1, trainCount: 256, testCount: 64);
        // Per-tensor weights on a random net: a PTQ model far enough from FP32 to improve on.
        var qconfig = QuantizedModels.Default(perChannelWeights: false);
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        using var prepared = QuantizePt2e.Prepare(captured, qconfig);
        QuantizePt2e.Calibrate(prepared, data.Train.Batches(64).Select(b => b.Images));
        using var quantized = QuantizePt2e.Convert(prepared);
        var before = Divergence(model, quantized, data.Test);

        var result = QuantizationAwareTraining.FineTune(
            quantized, FloatWeights(quantized), qconfig, data.Train, model.call, new QatOptions { Enabled = true, Epochs = 2, LearningRate = 1e-4, BatchSize = 32 });

        var after = Divergence(model, quantized, data.Test);
        output.WriteLine($"KL(FP32 || int8) on 64 held-out images: {before:E3} after PTQ, {after:E3} after QAT ({string.Join(", ", result.Epochs.Select(e => $"epoch {e.Epoch} loss {e.MeanLoss:E3}"))})");
        Assert.Equal(2, result.Epochs.Count);
        Assert.Equal(256, result.Images);
        Assert.True(after < 0.8 * before, $"KL(FP32 || int8) on held-out images: {before:E3} before, {after:E3} after");
    }

    /// <summary>The float weights the converted graph still holds for its int8 layers.</summary>
    private static Dictionary<string, (Tensor Weight, Tensor? Bias)> FloatWeights(QuantizedGraph quantized) =>
        quantized.Weights.Keys.ToDictionary(layer => layer, layer => quantized.Graph.Nodes.Single(n => X86LayerName(n) == layer) switch
        {
            Conv2dNode conv => (conv.Weight, conv.Bias),
            LinearNode linear => (linear.Weight, linear.Bias),
            var other => throw new InvalidOperationException(other.GetType().Name),
        });

    private static string? X86LayerName(GraphNode node) => ModelOpt.Engine.Quantization.Quantizers.X86InductorQuantizer.LayerName(node);

    private static double Divergence(ZooModel model, QuantizedGraph quantized, ImageDataset images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (sum, count) = (0.0, 0L);
        foreach (var batch in images.Batches(32))
        {
            var teacher = nn.functional.log_softmax(model.call(batch.Images), 1);
            var student = nn.functional.log_softmax(FakeQuantizedGraphInterpreter.Run(quantized, batch.Images), 1);
            sum += (teacher.exp() * (teacher - student)).sum().item<float>();
            count += batch.Count;
        }
        return sum / count;
    }
}

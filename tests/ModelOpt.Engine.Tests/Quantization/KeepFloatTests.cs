using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.Onnx;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Onnx;
using ModelOpt.Engine.Tests.Runtime;
using ModelOpt.Engine.Tests.Support;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Tests.Quantization;

// Builds TorchScript int8 models: LibTorch's quantized engine is process-wide.
[Collection(QuantizedEngineCollection.Name)]
public class KeepFloatTests
{
    private const string KeptConv = "layer2.1.conv1";
    private const string KeptLinear = "fc";

    [Fact]
    public void Kept_layers_have_no_int8_weight_and_are_listed_as_fp32_nodes()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 21);
        using var quantized = Quantize(model);

        Assert.DoesNotContain(KeptConv, quantized.Weights.Keys);
        Assert.DoesNotContain(KeptLinear, quantized.Weights.Keys);
        Assert.Equal(20, quantized.Weights.Count); // 21 convs + fc, less the two kept.
        Assert.Equal([KeptConv, KeptLinear], quantized.KeptFloatLayers());
        Assert.Contains($"{KeptConv} (Conv2d)", quantized.FloatNodes());
        Assert.Contains($"{KeptLinear} (Linear)", quantized.FloatNodes());
        Assert.DoesNotContain(Int8LayerSummary.From(quantized), l => l.Name == KeptConv || l.Name == KeptLinear);
        // The kept conv feeds an int8 conv, so its output is still quantized there; the kept fc is the FP32 model output.
        Assert.NotNull(quantized.TryQuantizationOf(Layer(quantized, KeptConv).Output));
        Assert.Null(quantized.TryQuantizationOf(quantized.Graph.Output));
    }

    [Fact]
    public void Torchscript_runs_kept_layers_as_float_ops_and_matches_the_simulation()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 22);
        using var quantized = Quantize(model);

        using var int8 = TorchScriptInt8Model.Build(quantized);

        Assert.Contains("f_layer2_1_conv1 = torch.relu(torch.conv2d(", int8.Source);
        Assert.DoesNotContain("q_layer2_1_conv1 = ops.quantized", int8.Source);
        Assert.Contains("f_fc = torch.linear(", int8.Source);
        Assert.DoesNotContain("ops.quantized.linear", int8.Source);
        Assert.Contains("ops.quantized.conv2d(q_layer2_1_conv1", int8.Source); // the next conv reads the requantized FP32 output.
        AssertMatchesSimulation(quantized, int8.Run, "TorchScript int8");
    }

    [Fact]
    public void Onnx_qdq_keeps_float_weights_for_kept_layers_and_ort_matches_the_simulation()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 23);
        using var quantized = Quantize(model);

        var onnx = OnnxExporter.ExportQdq(quantized);

        var initializers = onnx.Graph.Initializer.ToDictionary(t => t.Name);
        Assert.Equal((int)DataType.Float, initializers[$"{KeptConv}.weight"].DataType);
        Assert.Equal(4, initializers[$"{KeptConv}.weight"].Dims.Count);
        Assert.DoesNotContain($"{KeptConv}.weight_quantized", initializers.Keys);
        Assert.DoesNotContain($"{KeptLinear}.weight_quantized", initializers.Keys);
        Assert.Equal(20, initializers.Keys.Count(n => n.EndsWith(".weight_quantized")));
        Assert.Single(onnx.Graph.Node, n => n.OpType == "Conv" && n.Input.Contains($"{KeptConv}.weight"));
        Assert.DoesNotContain(onnx.Graph.Node, n => n.OpType == "DequantizeLinear" && n.Output.Contains($"{KeptConv}.weight"));
        var gemm = onnx.Graph.Node.Single(n => n.OpType == "Gemm");
        Assert.Equal($"{KeptLinear}.weight", gemm.Input[1]);
        Assert.DoesNotContain(onnx.Graph.Node, n => n.OpType == "QuantizeLinear" && n.Input[0] == gemm.Output[0]);

        using var files = new TempDirectory();
        OnnxExporter.Save(onnx, files.File("mixed.onnx"));
        using var ort = OnnxRuntimeModel.Load(files.File("mixed.onnx"));
        AssertMatchesSimulation(quantized, ort.Run, "ONNX Runtime");
    }

    [Fact]
    public void Int8_safetensors_round_trip_keeps_the_layers_fp32()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 24);
        using var quantized = Quantize(model);
        var descriptor = new Int8ModelDescriptor(ModelZoo.ResNet20, [1, 32, 32], 10, null);

        var (reloaded, _) = Int8SafeTensorsCheckpoint.Load(Int8SafeTensorsCheckpoint.Serialize(quantized, descriptor));
        using (reloaded)
        {
            Assert.Equal(quantized.KeptFloatLayers(), reloaded.KeptFloatLayers());
            Assert.Equal(TorchScriptInt8Generator.Generate(quantized).Source, TorchScriptInt8Generator.Generate(reloaded).Source);
            using var same = quantized.FloatParameters(KeptConv).Weight.equal(reloaded.FloatParameters(KeptConv).Weight).all();
            Assert.True(same.item<bool>());
        }
    }

    [Fact]
    public void An_unknown_layer_name_is_rejected_with_the_models_layers()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 25);
        model.eval();
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);

        var error = Assert.Throws<QuantizationException>(() => QuantizePt2e.Prepare(captured, QuantizedModels.Default(), ["layer9.conv"]));

        Assert.Contains("layer9.conv", error.Message);
        Assert.Contains("layer1.0.conv1", error.Message);
        Assert.Contains("fc", error.Message);
    }

    private static QuantizedGraph Quantize(ZooModel model) =>
        QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(), batches: 1, batchSize: 8, keepFloat: [KeptConv, KeptLinear]);

    private static void AssertMatchesSimulation(QuantizedGraph quantized, Func<Tensor, Tensor> run, string backend)
    {
        using var input = randn(16, 1, 32, 32);
        using var actual = run(input);
        using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, input);
        var relative = (actual - simulated).abs().max().item<float>() / simulated.abs().max().item<float>();
        Assert.True(relative < 0.05, $"{backend} differs from the fake-quant simulation by {relative:P1} of the largest logit");
    }

    private static GraphNode Layer(QuantizedGraph quantized, string name) =>
        quantized.Graph.Nodes.Single(n => n is Conv2dNode conv && conv.Name == name);
}

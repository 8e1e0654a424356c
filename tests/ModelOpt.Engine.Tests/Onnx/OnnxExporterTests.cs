using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Tests.Support;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Tests.Onnx;

[Collection(GlobalGeneratorCollection.Name)]
public class OnnxExporterTests
{
    [Fact]
    public void Fp32_resnet20_has_the_expected_ops_and_a_dynamic_batch()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 1);
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        using var graph = TestModels.FoldedAndFused(captured);

        var onnx = OnnxExporter.ExportFp32(graph);

        Assert.Equal(OnnxExporter.Opset, onnx.OpsetImport.Single().Version);
        var ops = OnnxExporter.OpTypeCounts(onnx);
        Assert.Equal(21, ops["Conv"]);
        Assert.Equal(9, ops["Add"]);
        Assert.Equal(19, ops["Relu"]); // the stem, the first conv of each of 9 blocks, and the 9 residual adds.
        Assert.Equal(1, ops["GlobalAveragePool"]);
        Assert.Equal(1, ops["Flatten"]);
        Assert.Equal(1, ops["Gemm"]);
        Assert.Equal(6, ops.Count);
        Assert.All(onnx.Graph.Initializer, t => Assert.Equal((int)DataType.Float, t.DataType));
        Assert.Equal(["N", "1", "32", "32"], Dims(onnx.Graph.Input.Single()));
        Assert.Equal(["N", "10"], Dims(onnx.Graph.Output.Single()));
    }

    [Fact]
    public void Qdq_resnet20_wraps_every_quantized_value_and_stores_integer_weights()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 2);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(), batches: 1, batchSize: 8);

        var onnx = OnnxExporter.ExportQdq(quantized);

        var ops = OnnxExporter.OpTypeCounts(onnx);
        Assert.Equal(21, ops["Conv"]);
        Assert.Equal(9, ops["Add"]);
        // Activations: input + 21 conv + 9 add + pool + flatten + gemm; weights and biases: 22 each.
        Assert.Equal(34, ops["QuantizeLinear"]);
        Assert.Equal(34 + 22 + 22, ops["DequantizeLinear"]);

        var initializers = onnx.Graph.Initializer.ToDictionary(t => t.Name);
        Assert.All(initializers.Values.Where(t => t.Name.EndsWith(".weight_quantized")), t => Assert.Equal((int)DataType.Int8, t.DataType));
        Assert.All(initializers.Values.Where(t => t.Name.EndsWith(".bias_quantized")), t => Assert.Equal((int)DataType.Int32, t.DataType));
        Assert.All(initializers.Values.Where(t => t.Name.EndsWith("scale")), t => Assert.Equal((int)DataType.Float, t.DataType));
        Assert.Equal(22, initializers.Keys.Count(n => n.EndsWith(".weight_quantized")));
        Assert.Equal(22, initializers.Keys.Count(n => n.EndsWith(".bias_quantized")));
        Assert.DoesNotContain(initializers.Values, t => t.DataType == (int)DataType.Float && t.Dims.Count > 1); // no float weights left.

        var weightDequantize = onnx.Graph.Node.Single(n => n.OpType == "DequantizeLinear" && n.Input[0] == "conv1.weight_quantized");
        Assert.Equal(0, weightDequantize.Attribute.Single(a => a.Name == "axis").I);
        Assert.Equal((int)DataType.Int8, initializers["conv1.weight_zero_point"].DataType);
        Assert.Equal((int)DataType.Uint8, initializers[onnx.Graph.Node.First(n => n.OpType == "QuantizeLinear").Input[2]].DataType);
    }

    [Fact]
    public void Qdq_bias_is_int32_at_input_scale_times_weight_scale()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet20, 1, seed: 3);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(), batches: 1, batchSize: 8);

        var onnx = OnnxExporter.ExportQdq(quantized);

        var conv = quantized.Graph.Nodes.OfType<Conv2dNode>().First();
        var inputScale = (double)(float)quantized.QuantizationOf(conv.Input).Scale;
        var weightScales = quantized.Weights[conv.Name].Scales.to(float32).data<float>().ToArray();
        var bias = quantized.Weights[conv.Name].Bias!.data<float>().ToArray(); // convert keeps it fp32; the file stores int32.
        var initializers = onnx.Graph.Initializer.ToDictionary(t => t.Name);
        var intBias = Ints(initializers[$"{conv.Name}.bias_quantized"]);
        var biasScales = Floats(initializers[$"{conv.Name}.bias_scale"]);
        for (var c = 0; c < bias.Length; c++)
        {
            Assert.Equal((float)(inputScale * weightScales[c]), biasScales[c]);
            Assert.Equal(Math.Round(bias[c] / (double)biasScales[c]), intBias[c]);
        }
    }

    private static string[] Dims(ValueInfoProto value) =>
        value.Type.TensorType.Shape.Dim.Select(d => d.DimParam is { Length: > 0 } p ? p : d.DimValue.ToString()).ToArray();

    private static int[] Ints(TensorProto tensor) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(tensor.RawData.Span).ToArray();

    private static float[] Floats(TensorProto tensor) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
}

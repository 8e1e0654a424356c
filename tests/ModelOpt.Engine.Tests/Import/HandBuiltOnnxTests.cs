using Google.Protobuf;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Runtime.Onnx;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Runtime;
using ModelOpt.Engine.Tests.Onnx;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>Small ONNX graphs written here, for forms torch.onnx does not emit for the fixtures; ONNX Runtime is the reference.</summary>
[Collection(QuantizedEngineCollection.Name)]
public class HandBuiltOnnxTests
{
    [Fact]
    public void A_zero_pad_before_a_conv_is_folded_into_its_padding()
    {
        var model = Model(
            [Node("Pad", "pad", ["x", "pads"], "padded"), Node("Conv", "conv", ["padded", "w"], "features"), Node("Flatten", "flatten", ["features"], "y")],
            [Int64s("pads", [0, 0, 1, 2, 0, 0, 1, 2]), Floats("w", [2, 1, 3, 3])]);
        using var directory = new TempDirectory();
        var path = directory.File("pad_conv.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        using var input = randn(3, 1, 8, 8);

        using var imported = OnnxImporter.Import(path);
        using var runtime = OnnxRuntimeModel.Load(path);
        using var expected = runtime.Run(input);
        using var actual = GraphInterpreter.Run(imported.Graph, input);

        var conv = Assert.Single(imported.Graph.Nodes.OfType<Conv2dNode>());
        Assert.Equal([1L, 2], conv.Padding);
        Assert.Empty(imported.Graph.Nodes.OfType<ReLUNode>());
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    /// <summary>GoogLeNet and SqueezeNet pool with ceil_mode; the int8 model pools on quantized tensors the same way.</summary>
    [Fact]
    public void Ceil_mode_pooling_matches_onnx_runtime_and_runs_in_int8()
    {
        var model = Model(
            [
                Node("Conv", "conv", ["x", "w"], "features"),
                Node("MaxPool", "maxpool", ["features"], "max", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Int("ceil_mode", 1)),
                Node("AveragePool", "avgpool", ["max"], "avg", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("ceil_mode", 1)),
                Node("Flatten", "flatten", ["avg"], "y"),
            ],
            [Floats("w", [4, 1, 1, 1])]);
        using var directory = new TempDirectory();
        var path = directory.File("ceil.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        using var input = randn(16, 1, 8, 8);

        using var imported = OnnxImporter.Import(path);
        using var runtime = OnnxRuntimeModel.Load(path);
        using var expected = runtime.Run(input);
        using var actual = GraphInterpreter.Run(imported.Graph, input);
        using var prepared = QuantizePt2e.Prepare(imported.Graph, X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [input]);
        using var quantized = QuantizePt2e.Convert(prepared);
        using var int8 = TorchScriptInt8Model.Build(quantized);
        using var int8Output = int8.Run(input);
        using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, input);

        Assert.Equal([16L, 4 * 2 * 2], actual.shape); // 8 → ceil(5 / 2) + 1 = 4 → 2
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5));
        Assert.True(int8Output.allclose(simulated, rtol: 0, atol: 2 * quantized.QuantizationOf(quantized.Graph.Output).Scale));
    }

    [Fact]
    public void A_pad_that_no_conv_reads_is_refused_naming_the_node()
    {
        var model = Model([Node("Pad", "pad", ["x", "pads"], "padded"), Node("Relu", "relu", ["padded"], "y")], [Int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1])]);

        var e = Assert.Throws<UnsupportedOnnxModelException>(() => OnnxImporter.Import(model, "pad_relu.onnx"));

        var node = Assert.Single(e.Nodes);
        Assert.Equal(("Relu", "relu"), (node.OpType, node.NodeName));
        Assert.Contains("Pad", node.Reason);
    }

    [Fact]
    public void A_reshape_that_is_not_a_flatten_is_refused()
    {
        var model = Model([Node("Reshape", "reshape", ["x", "shape"], "y")], [Int64s("shape", [0, 2, 32])]);

        var e = Assert.Throws<UnsupportedOnnxModelException>(() => OnnxImporter.Import(model, "reshape.onnx"));

        Assert.Equal("reshape", Assert.Single(e.Nodes).NodeName);
        Assert.Contains("not a flatten", e.Message);
    }

    /// <summary>Opset 13, input x: float (N, 1, 8, 8), output y.</summary>
    private static ModelProto Model(NodeProto[] nodes, TensorProto[] initializers)
    {
        var graph = new GraphProto { Name = "hand-built" };
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers);
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (var d in new long[] { 1, 8, 8 })
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } });
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float } } });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    private static NodeProto Node(string opType, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static TensorProto Int64s(string name, long[] values)
    {
        var proto = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        return proto;
    }

    /// <summary>Deterministic float weights of the given shape.</summary>
    private static TensorProto Floats(string name, long[] shape)
    {
        var proto = new TensorProto { Name = name, DataType = (int)DataType.Float };
        proto.Dims.AddRange(shape);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        proto.FloatData.AddRange(Enumerable.Range(0, (int)count).Select(i => MathF.Sin(i * 0.37f)));
        return proto;
    }
}

using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Export.Onnx;

/// <summary>Accumulates the nodes and initializers of one ONNX graph, keeping every tensor and node name unique.</summary>
internal sealed class OnnxGraphWriter
{
    private readonly GraphProto graph = new() { Name = "modelopt" };
    private readonly HashSet<string> names = [];

    public string UniqueName(string name)
    {
        var unique = name;
        for (var i = 1; !names.Add(unique); i++)
        {
            unique = $"{name}_{i}";
        }
        return unique;
    }

    /// <summary>Adds <paramref name="tensor"/> as an initializer; it is copied, so the caller keeps ownership.</summary>
    public string Initializer(string name, Tensor tensor)
    {
        var unique = UniqueName(name);
        graph.Initializer.Add(OnnxTensors.FromTensor(unique, tensor));
        return unique;
    }

    /// <summary>
    /// Emits <paramref name="ops"/> in sequence starting from <paramref name="input"/>; intermediate outputs are named
    /// after <paramref name="prefix"/>, the last one <paramref name="output"/> (a fresh name when null).
    /// Returns the name of the chain's result, which is <paramref name="input"/> itself for an empty chain.
    /// </summary>
    public string Chain(string input, string prefix, IReadOnlyList<OnnxOp> ops, string? output = null)
    {
        var current = input;
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            var node = new NodeProto { OpType = op.OpType, Name = UniqueName($"{prefix}/{op.OpType}") };
            node.Input.Add(current);
            node.Input.AddRange(op.ExtraInputs);
            node.Attribute.AddRange(op.Attributes);
            current = i == ops.Count - 1 && output is not null ? UniqueName(output) : UniqueName($"{prefix}/{op.OpType}:0");
            node.Output.Add(current);
            graph.Node.Add(node);
        }
        return current;
    }

    /// <summary>Adds one node reading <paramref name="inputs"/>; returns its output's name.</summary>
    public string Node(string prefix, string opType, IReadOnlyList<string> inputs, IEnumerable<AttributeProto> attributes)
    {
        var node = new NodeProto { OpType = opType, Name = UniqueName($"{prefix}/{opType}") };
        node.Input.AddRange(inputs);
        node.Attribute.AddRange(attributes);
        var output = UniqueName($"{prefix}/{opType}:0");
        node.Output.Add(output);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>The finished model: float input and outputs, the first dimension of each the dynamic batch "N".</summary>
    public ModelProto ToModel(string input, long[] inputShape, IReadOnlyList<string> outputs, IReadOnlyList<long[]> outputShapes, int opset, string docString)
    {
        graph.Input.Add(FloatValue(input, inputShape));
        for (var i = 0; i < outputs.Count; i++)
        {
            graph.Output.Add(FloatValue(outputs[i], outputShapes[i]));
        }
        var model = new ModelProto
        {
            IrVersion = OnnxExporter.IrVersion,
            ProducerName = "ModelOpt",
            DocString = docString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    private static ValueInfoProto FloatValue(string name, long[] shape)
    {
        var tensorShape = new TensorShapeProto();
        tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (var dim in shape.Skip(1))
        {
            tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        }
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = tensorShape };
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}

using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Reads an FP32 ONNX model as <c>torch.onnx.export</c> writes it (opsets <see cref="MinOpset"/>-<see cref="MaxOpset"/>,
/// with or without constant folding, dynamic or fixed batch) into the engine's captured graph, the same graph the zoo
/// models trace into, so the interpreter, quantizer and both int8 backends run it unchanged.
/// </summary>
/// <remarks>
/// Like onnx2torch's converter, every node's op type is looked up in one registry before anything is converted: an
/// op ModelOpt does not map is reported with every node that uses it. Shape arithmetic is folded to constants.
/// </remarks>
public static class OnnxImporter
{
    public const int MinOpset = 7;
    public const int MaxOpset = 21;

    /// <summary>The op types the importer maps (default ONNX domain).</summary>
    public static IEnumerable<string> SupportedOps => OnnxConverterRegistry.OpTypes;

    /// <exception cref="OnnxFormatException">The file is missing, truncated or not an ONNX model.</exception>
    /// <exception cref="UnsupportedOnnxModelException">It uses ops or settings ModelOpt does not map.</exception>
    public static ImportedOnnxModel Import(string path)
    {
        var sourceName = Path.GetFileName(path);
        try
        {
            using var stream = File.OpenRead(path);
            return Import(stream, sourceName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxFormatException(sourceName, "the file cannot be read.", e);
        }
    }

    /// <inheritdoc cref="Import(string)"/>
    /// <param name="sourceName">Named in error messages: the upload's file name.</param>
    public static ImportedOnnxModel Import(Stream stream, string sourceName) => Import(Parse(stream, sourceName), sourceName);

    /// <inheritdoc cref="Import(string)"/>
    public static ImportedOnnxModel Import(ModelProto model, string sourceName)
    {
        var graph = model.Graph ?? throw new OnnxFormatException(sourceName, "it has no graph.");
        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => (long?)o.Version).FirstOrDefault()
            ?? throw new OnnxFormatException(sourceName, "it imports no default-domain opset.");
        if (opset is < MinOpset or > MaxOpset)
        {
            throw new UnsupportedOnnxModelException(sourceName, [new("opset", opset.ToString(), $"opsets {MinOpset}-{MaxOpset} are mapped.")]);
        }

        var names = NodeNames(graph);
        var unknown = graph.Node
            .Select((n, i) => (Node: n, Name: names[i]))
            .Where(e => !OnnxConverterRegistry.TryGet(e.Node.Domain, e.Node.OpType, out _))
            .Select(e => new UnsupportedOnnxNode(e.Node.OpType, e.Name, "ModelOpt has no mapping for this op."))
            .ToList();
        if (unknown.Count > 0)
        {
            throw new UnsupportedOnnxModelException(sourceName, unknown);
        }

        var (inputName, inputShape, fixedBatch) = GraphInput(graph, sourceName);
        // Converters make small temporaries (views, casts); the scope frees them, the graph's weights leave it in Finish.
        using var scope = NewDisposeScope();
        using var conversion = new OnnxConversion((int)opset, fixedBatch, Readers(graph));
        var current = ("input", inputName);
        try
        {
            foreach (var initializer in graph.Initializer)
            {
                current = ("initializer", initializer.Name);
                conversion.SetConstant(initializer.Name, OnnxTensorReader.Read(initializer));
            }
            conversion.AddInput(inputName, inputShape);
            for (var i = 0; i < graph.Node.Count; i++)
            {
                var node = graph.Node[i];
                current = (node.OpType, names[i]);
                conversion.NodeName = names[i];
                OnnxConverterRegistry.TryGet(node.Domain, node.OpType, out var convert);
                convert(conversion, node);
            }
            current = ("output", graph.Output.FirstOrDefault()?.Name ?? "");
            var output = Output(conversion, graph);
            var logits = conversion.ShapeOf(output);
            if (logits.Length != 2)
            {
                throw new OnnxNodeNotSupportedException($"the graph output must be (N, classes) logits; it is {logits.Length}-d.");
            }
            return new ImportedOnnxModel(conversion.Finish(output), inputShape[1..], logits[1]);
        }
        catch (OnnxNodeNotSupportedException e)
        {
            throw new UnsupportedOnnxModelException(sourceName, [new(current.Item1, current.Item2, e.Message)]);
        }
    }

    /// <summary>Parses the protobuf; nothing is converted.</summary>
    /// <exception cref="OnnxFormatException">The bytes are not an ONNX model.</exception>
    public static ModelProto Parse(Stream stream, string sourceName)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException(sourceName, "the protobuf is truncated or corrupt.", e);
        }
        if (model.Graph is null || model.Graph.Node.Count == 0 || model.IrVersion <= 0)
        {
            throw new OnnxFormatException(sourceName, "it holds no ONNX graph.");
        }
        return model;
    }

    /// <summary>Every node's name; an unnamed node is called <c>OpType_index</c>, duplicates get their index appended.</summary>
    private static string[] NodeNames(GraphProto graph)
    {
        var taken = new HashSet<string>();
        return graph.Node.Select((n, i) =>
        {
            var name = n.Name.Length > 0 ? n.Name : $"{n.OpType}_{i}";
            return taken.Add(name) ? name : $"{name}_{i}";
        }).ToArray();
    }

    private static Dictionary<string, int> Readers(GraphProto graph)
    {
        var readers = new Dictionary<string, int>();
        foreach (var name in graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).Where(n => n.Length > 0))
        {
            readers[name] = readers.GetValueOrDefault(name) + 1;
        }
        return readers;
    }

    /// <summary>The one float (N, C, H, W) input with fixed C, H, W; N may be symbolic or fixed.</summary>
    private static (string Name, long[] Shape, long? FixedBatch) GraphInput(GraphProto graph, string sourceName)
    {
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            throw new UnsupportedOnnxModelException(sourceName, [new("input", string.Join(", ", inputs.Select(i => i.Name)),
                $"the graph must have one image input, it has {inputs.Count}.")]);
        }
        var input = inputs[0];
        var tensorType = input.Type?.TensorType;
        var dims = tensorType?.Shape?.Dim;
        if (tensorType is null || (DataType)tensorType.ElemType != DataType.Float || dims is null || dims.Count != 4
            || dims.Skip(1).Any(d => !d.HasDimValue || d.DimValue <= 0))
        {
            throw new UnsupportedOnnxModelException(sourceName, [new("input", input.Name,
                "the input must be a float (N, C, H, W) image batch with fixed C, H and W.")]);
        }
        long? fixedBatch = dims[0].HasDimValue ? dims[0].DimValue : null;
        return (input.Name, [1, .. dims.Skip(1).Select(d => d.DimValue)], fixedBatch);
    }

    private static Graph.GraphValue Output(OnnxConversion conversion, GraphProto graph)
    {
        if (graph.Output.Count != 1)
        {
            throw new OnnxNodeNotSupportedException($"the graph must have one output, it has {graph.Output.Count}.");
        }
        return conversion.Data(graph.Output[0].Name);
    }
}

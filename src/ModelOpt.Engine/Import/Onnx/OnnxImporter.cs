using Google.Protobuf;
using ModelOpt.Engine.Graph;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Reads an FP32 ONNX model as <c>torch.onnx.export</c> and other exporters write it (opsets <see cref="MinOpset"/>-<see cref="MaxOpset"/>,
/// with or without constant folding, dynamic or fixed batch, dynamic H and W given by the caller) into the engine's
/// captured graph, the same graph the zoo models trace into, so the interpreter, quantizer and both int8 backends run it unchanged.
/// </summary>
/// <remarks>
/// Like onnx2torch's converter, every node's op type is looked up in one registry before anything is converted: an
/// op ModelOpt does not map is reported with every node that uses it. Shape arithmetic is folded to constants.
/// </remarks>
public static class OnnxImporter
{
    /// <summary>Opsets 1-6 are read where their semantics are those of 7 (an op whose old form differs is refused by name).</summary>
    public const int MinOpset = 1;
    public const int MaxOpset = 21;

    /// <summary>The op types the importer maps (default ONNX domain).</summary>
    public static IEnumerable<string> SupportedOps => OnnxConverterRegistry.OpTypes;

    /// <exception cref="OnnxFormatException">The file is missing, truncated or not an ONNX model.</exception>
    /// <exception cref="UnsupportedOnnxModelException">It uses ops or settings ModelOpt does not map.</exception>
    public static ImportedOnnxModel Import(string path, OnnxImportOptions? options = null)
    {
        var sourceName = Path.GetFileName(path);
        try
        {
            using var stream = File.OpenRead(path);
            return Import(stream, sourceName, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxFormatException(sourceName, "the file cannot be read.", e);
        }
    }

    /// <inheritdoc cref="Import(string, OnnxImportOptions?)"/>
    /// <param name="sourceName">Named in error messages: the upload's file name.</param>
    public static ImportedOnnxModel Import(Stream stream, string sourceName, OnnxImportOptions? options = null) =>
        Import(Parse(stream, sourceName), sourceName, options);

    /// <inheritdoc cref="Import(string, OnnxImportOptions?)"/>
    public static ImportedOnnxModel Import(ModelProto model, string sourceName, OnnxImportOptions? options = null)
    {
        options ??= new OnnxImportOptions();
        var graph = model.Graph ?? throw new OnnxFormatException(sourceName, "it has no graph.");
        var (inputName, inputShape, fixedBatch) = ImageInput(graph, sourceName, options);
        var outputs = OutputsOf(graph, options.OutputName, options.EveryOutput, sourceName);
        var (result, shapes) = Convert(model, sourceName, inputName, inputShape, fixedBatch, symbolicBatch: true, new Dictionary<string, Tensor>(), outputs);
        var logits = shapes[0];
        if (logits.Length != 2 && !options.AnyOutputShape)
        {
            result.Dispose();
            throw new UnsupportedOnnxModelException(sourceName, [new("graph output", outputs[0],
                $"the model's output must be (N, classes) logits; it is {logits.Length}-d.", IsNode: false)]);
        }
        return new ImportedOnnxModel(result, inputShape[1..], [.. shapes.Select(s => s[1..])], options.OutputName ?? (options.EveryOutput ? null : outputs[0]));
    }

    /// <summary>
    /// The engine-level import of any graph with one float data input of any rank and fixed shape (ONNX's backend node
    /// tests, say): the other graph inputs are constants given in <paramref name="inputValues"/>, as an exporter writes
    /// weights. No batch axis is assumed; the service's imports go through <see cref="Import(ModelProto, string, OnnxImportOptions?)"/>.
    /// </summary>
    /// <exception cref="UnsupportedOnnxModelException">It uses ops or settings ModelOpt does not map.</exception>
    /// <param name="inputShape">The data input's shape where the file leaves dimensions symbolic; null to read it from the file.</param>
    public static ModelGraph ImportGraph(
        ModelProto model, string sourceName, IReadOnlyDictionary<string, Tensor> inputValues, long[]? inputShape = null, string? outputName = null)
    {
        var graph = model.Graph ?? throw new OnnxFormatException(sourceName, "it has no graph.");
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name) && !inputValues.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            throw new UnsupportedOnnxModelException(sourceName, [new("graph input", string.Join(", ", inputs.Select(i => i.Name)),
                $"the graph must have one data input besides the given constants, it has {inputs.Count}.", IsNode: false)]);
        }
        var input = inputs[0];
        var tensorType = input.Type?.TensorType;
        var dims = tensorType?.Shape?.Dim;
        if (tensorType is null || (DataType)tensorType.ElemType != DataType.Float)
        {
            throw new UnsupportedOnnxModelException(sourceName, [new("graph input", input.Name,
                $"the data input must be a float tensor, it is {(DataType?)tensorType?.ElemType}.", IsNode: false)]);
        }
        var shape = inputShape ?? (dims is not null && dims.All(d => d.HasDimValue && d.DimValue >= 0) ? [.. dims.Select(d => d.DimValue)]
            : throw new UnsupportedOnnxModelException(sourceName, [new("graph input", input.Name, "the data input's shape is not fixed.", IsNode: false)]));
        return Convert(model, sourceName, input.Name, shape, null, symbolicBatch: false, inputValues, OutputsOf(graph, outputName, every: false, sourceName)).Graph;
    }

    private static (ModelGraph Graph, long[][] OutputShapes) Convert(
        ModelProto model, string sourceName, string inputName, long[] inputShape, long? fixedBatch, bool symbolicBatch,
        IReadOnlyDictionary<string, Tensor> inputValues, IReadOnlyList<string> outputs)
    {
        var graph = model.Graph;
        var opset = DefaultOpset(model, sourceName);
        var names = NodeNames(graph);
        var unknown = UnmappedNodes(graph, names);
        if (unknown.Count > 0)
        {
            throw new UnsupportedOnnxModelException(sourceName, unknown);
        }

        // Converters make small temporaries (views, casts); the scope frees them, the graph's weights leave it in Finish.
        using var scope = NewDisposeScope();
        using var conversion = new OnnxConversion((int)opset, fixedBatch, symbolicBatch, Readers(graph, outputs), DeclaredTypes(graph));
        UnsupportedOnnxNode? problem = null;
        try
        {
            foreach (var initializer in graph.Initializer)
            {
                problem = new("initializer", initializer.Name, "", IsNode: false);
                if (OnnxTensorReader.TryRead(initializer, out var initial, out var reason))
                {
                    conversion.SetConstant(initializer.Name, initial);
                }
                else
                {
                    conversion.SetUnreadable(initializer.Name, reason);
                }
            }
            foreach (var (name, given) in inputValues)
            {
                conversion.SetConstant(name, OnnxTensorReader.Normalize(given));
            }
            problem = new("graph input", inputName, "", IsNode: false);
            conversion.AddInput(inputName, inputShape);
            for (var i = 0; i < graph.Node.Count; i++)
            {
                var node = graph.Node[i];
                problem = new(node.OpType, names[i], "");
                conversion.NodeName = names[i];
                OnnxConverterRegistry.TryGet(node.Domain, node.OpType, out var convert);
                try
                {
                    convert(conversion, node);
                }
                catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
                {
                    // A folded op that cannot run on its constants: the node's own problem, in its words.
                    throw new OnnxNodeNotSupportedException($"it cannot run on its inputs ({e.Message.Split('\n')[0]}).");
                }
            }
            var values = new List<GraphValue>();
            foreach (var output in outputs)
            {
                problem = new("graph output", output, "", IsNode: false);
                values.Add(conversion.Operand(output));
            }
            return (conversion.Finish(values, outputs), [.. values.Select(conversion.ShapeOf)]);
        }
        catch (OnnxNodeNotSupportedException e)
        {
            throw new UnsupportedOnnxModelException(sourceName, [problem! with { Reason = e.Message }]);
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

    /// <summary>How many nodes read each value, each output the model is imported for counting as a reader (the graph's other outputs are not computed).</summary>
    private static Dictionary<string, int> Readers(GraphProto graph, IReadOnlyList<string> outputs)
    {
        var readers = new Dictionary<string, int>();
        foreach (var name in graph.Node.SelectMany(n => n.Input).Concat(outputs).Where(n => n.Length > 0))
        {
            readers[name] = readers.GetValueOrDefault(name) + 1;
        }
        return readers;
    }

    private static Dictionary<string, DataType> DeclaredTypes(GraphProto graph)
    {
        var types = new Dictionary<string, DataType>();
        foreach (var value in graph.Input.Concat(graph.ValueInfo).Concat(graph.Output).Where(v => v.Type?.TensorType is not null))
        {
            types[value.Name] = (DataType)value.Type.TensorType.ElemType;
        }
        foreach (var initializer in graph.Initializer)
        {
            types[initializer.Name] = (DataType)initializer.DataType;
        }
        return types;
    }

    /// <summary>
    /// What the file declares of its image input, before anything is converted: C, and H and W where they are fixed
    /// (null where the graph leaves them dynamic and a job's preprocessing gives them).
    /// </summary>
    /// <exception cref="OnnxFormatException">The bytes hold no graph.</exception>
    /// <exception cref="UnsupportedOnnxModelException">The input is not one float (N, C, H, W) image batch.</exception>
    public static (long Channels, long? Height, long? Width) DeclaredInput(ModelProto model, string sourceName)
    {
        var graph = model.Graph ?? throw new OnnxFormatException(sourceName, "it has no graph.");
        var dims = DeclaredImageInput(graph, sourceName).Type.TensorType.Shape.Dim;
        long? Fixed(int axis) => dims[axis].HasDimValue && dims[axis].DimValue > 0 ? dims[axis].DimValue : null;
        return (dims[1].DimValue, Fixed(2), Fixed(3));
    }

    /// <summary>
    /// The checks that need no input size: the opset and that every op is one ModelOpt maps, each unmapped op listed
    /// with its nodes. A graph with a dynamic H and W is checked this far at upload; its job imports it at its size.
    /// </summary>
    /// <exception cref="UnsupportedOnnxModelException">The opset or an op is not mapped.</exception>
    public static void CheckOps(ModelProto model, string sourceName)
    {
        var graph = model.Graph ?? throw new OnnxFormatException(sourceName, "it has no graph.");
        DefaultOpset(model, sourceName);
        var names = NodeNames(graph);
        var unknown = UnmappedNodes(graph, names);
        if (unknown.Count > 0)
        {
            throw new UnsupportedOnnxModelException(sourceName, unknown);
        }
    }

    private static long DefaultOpset(ModelProto model, string sourceName)
    {
        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => (long?)o.Version).FirstOrDefault()
            ?? throw new OnnxFormatException(sourceName, "it imports no default-domain opset.");
        return opset is < MinOpset or > MaxOpset
            ? throw new UnsupportedOnnxModelException(sourceName, [new("opset", opset.ToString(), $"opsets {MinOpset}-{MaxOpset} are mapped.", IsNode: false)])
            : opset;
    }

    private static List<UnsupportedOnnxNode> UnmappedNodes(GraphProto graph, string[] names) => graph.Node
        .Select((n, i) => (Node: n, Name: names[i]))
        .Where(e => !OnnxConverterRegistry.TryGet(e.Node.Domain, e.Node.OpType, out _))
        .Select(e => new UnsupportedOnnxNode(e.Node.OpType, e.Name,
            e.Node.Domain is "" or "ai.onnx" ? "ModelOpt has no mapping for this op." : $"ops of domain '{e.Node.Domain}' are not mapped."))
        .ToList();

    private static ValueInfoProto DeclaredImageInput(GraphProto graph, string sourceName)
    {
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            throw new UnsupportedOnnxModelException(sourceName, [new("graph input", string.Join(", ", inputs.Select(i => i.Name)),
                $"the graph must have one image input, it has {inputs.Count}.", IsNode: false)]);
        }
        var input = inputs[0];
        var tensorType = input.Type?.TensorType;
        var dims = tensorType?.Shape?.Dim;
        if (tensorType is null || (DataType)tensorType.ElemType != DataType.Float || dims is null || dims.Count != 4
            || !dims[1].HasDimValue || dims[1].DimValue <= 0)
        {
            throw new UnsupportedOnnxModelException(sourceName, [new("graph input", input.Name,
                "the input must be a float (N, C, H, W) image batch with a fixed number of channels C.", IsNode: false)]);
        }
        return input;
    }

    /// <summary>
    /// The one float (N, C, H, W) input: C fixed; H and W fixed or given by the caller; N symbolic or fixed (the graph
    /// then runs at any batch size all the same).
    /// </summary>
    private static (string Name, long[] Shape, long? FixedBatch) ImageInput(GraphProto graph, string sourceName, OnnxImportOptions options)
    {
        var input = DeclaredImageInput(graph, sourceName);
        var dims = input.Type.TensorType.Shape.Dim;
        long? Spatial(int axis, long? given) => dims[axis].HasDimValue && dims[axis].DimValue > 0 ? dims[axis].DimValue : given;
        var (height, width) = (Spatial(2, options.InputHeight), Spatial(3, options.InputWidth));
        if (height is not > 0 || width is not > 0)
        {
            var dynamic = new[] { (Axis: "H", Dim: dims[2], Size: height), (Axis: "W", Dim: dims[3], Size: width) }
                .Where(d => d.Size is not > 0)
                .Select(d => d.Dim.DimParam.Length > 0 ? $"{d.Axis} ('{d.Dim.DimParam}')" : d.Axis);
            throw new UnsupportedOnnxModelException(sourceName, [new("graph input", input.Name,
                $"the input's {string.Join(" and ", dynamic)} {(height is not > 0 && width is not > 0 ? "are" : "is")} dynamic and no input size was given " +
                "(a job gives its preprocessing size).", IsNode: false)]);
        }
        long? fixedBatch = dims[0].HasDimValue && dims[0].DimValue > 0 ? dims[0].DimValue : null;
        return (input.Name, [1, dims[1].DimValue, height.Value, width.Value], fixedBatch);
    }

    /// <summary>
    /// The output the caller names; else, with <paramref name="every"/>, every graph output in the file's order; else the
    /// first: a classifier with several outputs has its logits first, as exporters write them.
    /// </summary>
    private static IReadOnlyList<string> OutputsOf(GraphProto graph, string? outputName, bool every, string sourceName)
    {
        if (outputName is null)
        {
            return graph.Output.Count == 0
                ? throw new UnsupportedOnnxModelException(sourceName, [new("graph output", "", "the graph has no output.", IsNode: false)])
                : every ? [.. graph.Output.Select(o => o.Name)] : [graph.Output[0].Name];
        }
        return graph.Output.Any(o => o.Name == outputName)
            ? [outputName]
            : throw new UnsupportedOnnxModelException(sourceName, [new("graph output", outputName,
                $"the graph has no output of that name; its outputs are {string.Join(", ", graph.Output.Select(o => o.Name))}.", IsNode: false)]);
    }
}

using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Graph.FloatOps;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// The state of one import: every ONNX value is either a constant (an initializer, a Constant node, or folded shape
/// arithmetic) or data (a graph value). Each data node is run as it is added on sample inputs, which gives every data
/// value's shape, so shape arithmetic is folded to constants as ONNX Runtime's constant folding does.
/// </summary>
/// <remarks>
/// With a symbolic batch the samples are a batch of 1 and a batch of 2, and every folded constant is kept at both
/// (<see cref="Folded"/>): an entry that differs between them grows with the batch (<c>x.size(0) * heads</c>), which
/// is how a Reshape or Expand target keeps the batch symbolic (<see cref="BatchDims"/>) without a symbolic algebra.
/// With a fixed shape (an engine-level import of a non-image graph) there is one sample and nothing is symbolic.
/// </remarks>
internal sealed class OnnxConversion : IDisposable
{
    private readonly Dictionary<string, Folded> constants = [];
    private readonly Dictionary<string, GraphValue> data = [];
    private readonly Dictionary<string, GraphValue> constantNodes = [];
    private readonly Dictionary<string, string> unreadable = [];
    private readonly Dictionary<GraphValue, Tensor[]> samples = [];
    private readonly Dictionary<string, (string Source, long[] Pads)> pendingPads = [];
    private readonly List<GraphNode> nodes = [];
    private readonly HashSet<Tensor> owned = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, int> readers;
    private int nextValue;
    private GraphValue? input;

    private readonly IReadOnlyDictionary<string, global::Onnx.TensorProto.Types.DataType> declaredTypes;

    public OnnxConversion(
        int opset, long? fixedBatch, bool symbolicBatch, Dictionary<string, int> readers,
        IReadOnlyDictionary<string, global::Onnx.TensorProto.Types.DataType> declaredTypes)
    {
        this.declaredTypes = declaredTypes;
        Opset = opset;
        FixedBatch = fixedBatch;
        SymbolicBatch = symbolicBatch;
        this.readers = readers;
    }

    public int Opset { get; }

    /// <summary>The ONNX element type the file declares for a value (inputs, initializers, value_info), where it does.</summary>
    public global::Onnx.TensorProto.Types.DataType? DeclaredType(string name) => declaredTypes.TryGetValue(name, out var type) ? type : null;

    /// <summary>The batch size a fixed-batch image export declares (its literal reshape targets use it); null for a dynamic axis.</summary>
    public long? FixedBatch { get; }

    /// <summary>Whether the first axis of the input is a batch of any size (image imports) or fixed (engine-level imports).</summary>
    public bool SymbolicBatch { get; }

    /// <summary>The name of the node being converted: the name its graph nodes take.</summary>
    public string NodeName { get; set; } = "";

    /// <summary>The graph input: the batch source of ops whose shapes grow with the batch.</summary>
    public GraphValue Input => input ?? throw new InvalidOperationException("The input is not added yet.");

    private int SampleCount => SymbolicBatch ? 2 : 1;

    public void AddInput(string name, long[] shape)
    {
        var value = new GraphValue(nextValue++);
        nodes.Add(new InputNode(value, shape));
        samples[value] = SymbolicBatch
            ? [Sample([1, .. shape.Skip(1)]), Sample([2, .. shape.Skip(1)])]
            : [Sample(shape)];
        data[name] = value;
        input = value;
    }

    // Not zeros: a sample of zeros hides ops that fail only on real values (a Div, a Log).
    private static Tensor Sample(long[] shape)
    {
        using var generator = new Generator(0);
        return rand(shape, generator: generator) + 0.5;
    }

    public bool IsConstant(string name) => constants.ContainsKey(name);

    public bool IsData(string name) => data.ContainsKey(name) || pendingPads.ContainsKey(name);

    /// <summary>A constant that does not depend on the batch size (a weight, an attribute-like input).</summary>
    public Tensor Constant(string name)
    {
        var folded = FoldedConstant(name);
        return folded.DependsOnBatch
            ? throw new OnnxNodeNotSupportedException($"input '{name}' depends on the batch size, which ModelOpt keeps symbolic here.")
            : folded.At[0];
    }

    /// <summary>Records an initializer ModelOpt cannot read (a string tensor, say): an error only for a node that reads it.</summary>
    public void SetUnreadable(string name, string reason) => unreadable[name] = reason;

    public Folded FoldedConstant(string name) =>
        constants.TryGetValue(name, out var folded) ? folded
        : unreadable.TryGetValue(name, out var reason) ? throw new OnnxNodeNotSupportedException(reason)
        : throw new OnnxNodeNotSupportedException(IsData(name)
            ? $"input '{name}' must be a constant (an initializer), it is computed from the graph input."
            : $"input '{name}' is not produced by any earlier node.");

    public GraphValue Data(string name)
    {
        if (pendingPads.Remove(name, out var pad))
        {
            // A zero Pad kept for a Conv is read by something else: it becomes a Pad op of its own.
            var source = Data(pad.Source);
            var rank = ShapeOf(source).Length;
            long[] onnxPads = [0, 0, pad.Pads[0], pad.Pads[1], 0, 0, pad.Pads[2], pad.Pads[3]];
            if (rank != 4)
            {
                throw new OnnxNodeNotSupportedException("a Pad of H and W needs an (N, C, H, W) input.");
            }
            return Add(name, v => new FloatOpNode(v, NodeName, new PadOp("constant", onnxPads, [pad.Pads[1], pad.Pads[3], pad.Pads[0], pad.Pads[2]], 0), [source]));
        }
        return data.TryGetValue(name, out var value)
            ? value
            : throw new OnnxNodeNotSupportedException(constants.ContainsKey(name)
                ? $"input '{name}' is a constant; ModelOpt maps this op only on the data flowing from the graph input."
                : unreadable.TryGetValue(name, out var reason) ? reason
                : $"input '{name}' is not produced by any earlier node.");
    }

    /// <summary>A graph value for <paramref name="name"/>: its data, or a <see cref="ConstantNode"/> holding the constant.</summary>
    public GraphValue Operand(string name)
    {
        if (!constants.ContainsKey(name))
        {
            return Data(name);
        }
        if (!constantNodes.TryGetValue(name, out var value))
        {
            var tensor = Constant(name);
            var kept = Own(tensor, keepType: true);
            value = new GraphValue(nextValue++);
            nodes.Add(new ConstantNode(value, name, kept));
            samples[value] = [.. Enumerable.Range(0, SampleCount).Select(_ => kept.alias())];
            constantNodes[name] = value;
        }
        return value;
    }

    /// <summary>The value of a data node on the first sample (its dtype, say).</summary>
    public Tensor SampleOf(GraphValue value) => samples[value][0];

    /// <summary>The shape of a data value at each sample.</summary>
    public long[][] SampleShapes(GraphValue value) => [.. samples[value].Select(s => s.shape)];

    /// <summary>The shape of a data value with the batch dimension as 1.</summary>
    public long[] ShapeOf(GraphValue value) => samples[value][0].shape;

    /// <summary>The shape of a data value, batch-dependent entries kept symbolic.</summary>
    public BatchDims BatchShapeOf(GraphValue value) => DimsOf(samples[value].Select(s => s.shape).ToArray());

    /// <summary>The shape of a data value at each sample (batch 1 and 2, or the fixed shape).</summary>
    public Folded ShapeConstant(GraphValue value) => new([.. samples[value].Select(s => tensor(s.shape))]);

    /// <summary>Integer entries known at each sample, as <see cref="BatchDims"/>.</summary>
    public BatchDims DimsOf(long[][] atSamples)
    {
        var first = atSamples[0];
        if (atSamples.Length == 1 || atSamples.Skip(1).All(s => s.SequenceEqual(first)))
        {
            return BatchDims.Of(first);
        }
        var second = atSamples[1];
        if (second.Length != first.Length)
        {
            throw new OnnxNodeNotSupportedException("a shape whose rank depends on the batch size is not mapped.");
        }
        var perBatch = first.Select((d, i) => second[i] - d).ToArray();
        return new BatchDims([.. first.Select((d, i) => d - perBatch[i])], perBatch);
    }

    public void SetConstant(string name, Tensor tensor) => constants[name] = new Folded([.. Enumerable.Repeat(tensor, SampleCount)]);

    public void SetConstant(string name, Folded folded) => constants[name] = folded;

    /// <summary>Makes <paramref name="name"/> another name of <paramref name="source"/> (Identity, Dropout, Cast to the same type).</summary>
    public void Alias(string name, string source)
    {
        if (constants.TryGetValue(source, out var tensor))
        {
            constants[name] = tensor;
        }
        else if (pendingPads.TryGetValue(source, out var pad))
        {
            pendingPads[name] = pad;
        }
        else
        {
            data[name] = Data(source);
        }
    }

    /// <summary>Records a zero Pad of the spatial axes to be folded into the Conv that reads it.</summary>
    public void AddPad(string name, string source, long[] pads) => pendingPads[name] = (source, pads);

    /// <summary>The data a Conv reads and the spatial padding (top, left, bottom, right) a Pad in front of it adds.</summary>
    public (GraphValue Input, long[] Pads) DataWithPad(string name) =>
        pendingPads.Remove(name, out var pad) ? (Data(pad.Source), pad.Pads) : (Data(name), [0, 0, 0, 0]);

    /// <summary>
    /// <paramref name="op"/> on <paramref name="inputs"/>: folded when every input is a constant (at each sample),
    /// otherwise a <see cref="FloatOpNode"/> whose constant inputs become <see cref="ConstantNode"/>s. A batch-dependent
    /// op appends the graph input as its batch source (<paramref name="batchSource"/>).
    /// </summary>
    public void Apply(string output, FloatOp op, IReadOnlyList<string> inputs, bool batchSource = false)
    {
        if (inputs.All(IsConstant) && !batchSource)
        {
            var folded = inputs.Select(FoldedConstant).ToList();
            using var scope = NewDisposeScope();
            var results = Enumerable.Range(0, SampleCount).Select(i => Evaluate(op, folded.Select(f => f.At[i]).ToList())).ToArray();
            foreach (var result in results)
            {
                result.MoveToOuterDisposeScope();
            }
            constants[output] = new Folded(results);
            return;
        }
        var operands = inputs.Select(Operand).ToList();
        if (batchSource)
        {
            operands.Add(Input);
        }
        Add(output, v => new FloatOpNode(v, NodeName, op, operands));
    }

    /// <summary>Folds constants with a function that has no data form (Range, ScatterND, ConstantOfShape), at each sample.</summary>
    public void FoldConstant(string output, IReadOnlyList<string> inputs, Func<IReadOnlyList<Tensor>, Tensor> fold)
    {
        var folded = inputs.Select(FoldedConstant).ToList();
        using var scope = NewDisposeScope();
        var results = new Tensor[SampleCount];
        for (var i = 0; i < SampleCount; i++)
        {
            var operands = folded.Select(f => f.At[i]).ToList();
            try
            {
                results[i] = fold(operands).MoveToOuterDisposeScope();
            }
            catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
            {
                throw ShapeProblem(operands, e);
            }
        }
        constants[output] = new Folded(results);
    }

    /// <summary>A float op on graph values (not ONNX names): a Pad the importer adds in front of a Conv, a crop after a ConvTranspose.</summary>
    public GraphValue AddOp(string output, FloatOp op, IReadOnlyList<GraphValue> operands) =>
        Add(output, v => new FloatOpNode(v, NodeName, op, operands));

    /// <summary>A fresh name for an intermediate value of the node being converted.</summary>
    public string Intermediate(string output, string what) => $"{output}#{what}";

    private static Tensor Evaluate(FloatOp op, IReadOnlyList<Tensor> operands)
    {
        try
        {
            using var noGrad = no_grad();
            return op.Evaluate(operands);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
        {
            throw ShapeProblem(operands, e);
        }
    }

    private static OnnxNodeNotSupportedException ShapeProblem(IEnumerable<Tensor> operands, Exception e)
    {
        var shapes = string.Join(" and ", operands.Select(o => $"[{string.Join(", ", o.shape)}]"));
        var reason = e.Message.Split('\n')[0];
        return new OnnxNodeNotSupportedException($"it cannot run on inputs of shape {shapes} ({reason}).");
    }

    /// <summary>Adds a node producing ONNX value <paramref name="name"/> and runs it on the samples to learn its shape.</summary>
    public GraphValue Add(string name, Func<GraphValue, GraphNode> create)
    {
        var value = new GraphValue(nextValue++);
        var node = create(value);
        var results = new Tensor[SampleCount];
        for (var i = 0; i < SampleCount; i++)
        {
            try
            {
                using var noGrad = no_grad();
                results[i] = GraphInterpreter.Evaluate(node, v => samples[v][i]);
            }
            catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
            {
                throw ShapeProblem(node.Inputs.Select(v => samples[v][i]), e);
            }
        }
        nodes.Add(node);
        samples[value] = results;
        data[name] = value;
        return value;
    }

    /// <summary>Replaces the node that produces <paramref name="value"/> (to fold a bias into a linear, say) and runs it again.</summary>
    public void Replace(GraphValue value, GraphNode replacement, string name)
    {
        var index = nodes.FindIndex(n => n.Output == value);
        nodes[index] = replacement;
        using (var noGrad = no_grad())
        {
            samples[value] = [.. Enumerable.Range(0, SampleCount).Select(i => GraphInterpreter.Evaluate(replacement, v => samples[v][i]))];
        }
        data[name] = value;
    }

    public GraphNode Producer(GraphValue value) => nodes.First(n => n.Output == value);

    /// <summary>How many nodes of the whole ONNX graph (and its outputs) read the value named <paramref name="name"/>.</summary>
    public int Readers(string name) => readers.TryGetValue(name, out var count) ? count : 0;

    /// <summary>A float32 copy (or, with <paramref name="keepType"/>, a copy in its own type) of a constant that the graph keeps.</summary>
    public Tensor Own(Tensor tensor, bool keepType = false)
    {
        var weight = (keepType ? tensor : tensor.to_type(ScalarType.Float32)).contiguous().clone();
        owned.Add(weight);
        return weight;
    }

    /// <summary>The finished graph; it owns the weights its nodes hold, which leave the importer's dispose scope with it.</summary>
    public ModelGraph Finish(IReadOnlyList<GraphValue> outputs, IReadOnlyList<string> outputNames)
    {
        var graph = new ModelGraph(nodes.ToList(), Input, outputs, outputNames, owned.Select(t => t.MoveToOuterDisposeScope()));
        owned.Clear();
        return graph;
    }

    public void Dispose()
    {
        var tensors = constants.Values.SelectMany(f => f.At).Concat(samples.Values.SelectMany(s => s)).Concat(owned);
        foreach (var tensor in tensors.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
        {
            tensor.Dispose();
        }
    }
}

/// <summary>A folded constant at each sample batch (one entry for a fixed shape); batch-dependent when they differ.</summary>
internal sealed record Folded(Tensor[] At)
{
    public bool DependsOnBatch => At.Length > 1 && !ReferenceEquals(At[0], At[1]) && !(At[0].shape.SequenceEqual(At[1].shape) && At[0].equal(At[1]).all().item<bool>());

    /// <summary>The integer entries of a 1-D shape-like constant at each sample.</summary>
    public long[][] Longs => [.. At.Select(t => t.to_type(ScalarType.Int64).data<long>().ToArray())];
}

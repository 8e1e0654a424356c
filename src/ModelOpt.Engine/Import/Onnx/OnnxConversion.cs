using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// The state of one import: every ONNX value is either a constant (an initializer, a Constant node, or folded shape
/// arithmetic) or data (a graph value). Each data node is run once on a batch-of-one sample as it is added, which
/// gives every data value's shape, so shape arithmetic is folded to constants as ONNX Runtime's constant folding does.
/// </summary>
internal sealed class OnnxConversion : IDisposable
{
    /// <summary>
    /// The batch dimension inside folded shape tensors (what <c>Shape</c> yields for the input's first axis): the graph
    /// runs at any batch size, so the value is kept symbolic and resolved only by <c>Reshape</c>.
    /// </summary>
    public const long BatchDimension = long.MinValue;

    private readonly Dictionary<string, Tensor> constants = [];
    private readonly Dictionary<string, GraphValue> data = [];
    private readonly Dictionary<GraphValue, Tensor> samples = [];
    private readonly Dictionary<string, (string Source, long[] Pads)> pendingPads = [];
    private readonly List<GraphNode> nodes = [];
    private readonly HashSet<Tensor> owned = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, int> readers;
    private int nextValue;

    public OnnxConversion(int opset, long? fixedBatch, Dictionary<string, int> readers)
    {
        Opset = opset;
        FixedBatch = fixedBatch;
        this.readers = readers;
    }

    public int Opset { get; }

    /// <summary>The batch size a fixed-batch export declares (its literal reshape targets use it); null for a dynamic axis.</summary>
    public long? FixedBatch { get; }

    /// <summary>The name of the node being converted: the name its graph nodes take.</summary>
    public string NodeName { get; set; } = "";

    public void AddInput(string name, long[] shape)
    {
        var value = new GraphValue(nextValue++);
        nodes.Add(new InputNode(value, shape));
        samples[value] = zeros([1, .. shape.Skip(1)]);
        data[name] = value;
    }

    public bool IsConstant(string name) => constants.ContainsKey(name);

    public bool IsData(string name) => data.ContainsKey(name);

    public Tensor Constant(string name) =>
        constants.TryGetValue(name, out var tensor) ? tensor : throw new OnnxNodeNotSupportedException($"input '{name}' must be a constant (an initializer).");

    public GraphValue Data(string name)
    {
        if (pendingPads.ContainsKey(name))
        {
            throw new OnnxNodeNotSupportedException("it reads the output of a Pad, which ModelOpt folds only into a following Conv.");
        }
        return data.TryGetValue(name, out var value)
            ? value
            : throw new OnnxNodeNotSupportedException(constants.ContainsKey(name)
                ? $"input '{name}' is a constant; ModelOpt maps this op only on the data flowing from the graph input."
                : $"input '{name}' is not produced by any earlier node.");
    }

    /// <summary>The shape of a data value with the batch dimension as 1.</summary>
    public long[] ShapeOf(GraphValue value) => samples[value].shape;

    public void SetConstant(string name, Tensor tensor) => constants[name] = tensor;

    /// <summary>Makes <paramref name="name"/> another name of <paramref name="source"/> (Identity, Dropout, Cast to float).</summary>
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

    /// <summary>Adds a node producing ONNX value <paramref name="name"/> and runs it on the sample to learn its shape.</summary>
    public GraphValue Add(string name, Func<GraphValue, GraphNode> create)
    {
        var value = new GraphValue(nextValue++);
        var node = create(value);
        Tensor sample;
        try
        {
            using var noGrad = no_grad();
            sample = GraphInterpreter.Evaluate(node, v => samples[v]);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
        {
            throw new OnnxNodeNotSupportedException("it cannot run on the shapes of its inputs.");
        }
        nodes.Add(node);
        samples[value] = sample;
        data[name] = value;
        return value;
    }

    /// <summary>Replaces the node that produces <paramref name="value"/> (to fold a bias into a linear, say).</summary>
    public void Replace(GraphValue value, GraphNode replacement, string name)
    {
        var index = nodes.FindIndex(n => n.Output == value);
        nodes[index] = replacement;
        data[name] = value;
    }

    public GraphNode Producer(GraphValue value) => nodes.First(n => n.Output == value);

    /// <summary>How many nodes of the whole ONNX graph (and its outputs) read the value named <paramref name="name"/>.</summary>
    public int Readers(string name) => readers.TryGetValue(name, out var count) ? count : 0;

    /// <summary>A float32 copy of a constant that the graph keeps (a weight or bias).</summary>
    public Tensor Own(Tensor tensor)
    {
        var weight = tensor.to_type(ScalarType.Float32).contiguous().clone();
        owned.Add(weight);
        return weight;
    }

    /// <summary>The finished graph; it owns the weights its nodes hold, which leave the importer's dispose scope with it.</summary>
    public ModelGraph Finish(GraphValue output)
    {
        var input = nodes.OfType<InputNode>().Single().Output;
        var graph = new ModelGraph(nodes.ToList(), input, output, owned.Select(t => t.MoveToOuterDisposeScope()));
        owned.Clear();
        return graph;
    }

    public void Dispose()
    {
        foreach (var tensor in constants.Values.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().Concat(samples.Values).Concat(owned))
        {
            tensor.Dispose();
        }
    }
}

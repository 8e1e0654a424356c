namespace ModelOpt.Engine.Graph;

/// <summary>
/// A captured model: nodes in execution order (a topological order by construction), one input, one or more named
/// outputs in the model's order (an ONNX graph's outputs as the file lists them; a zoo model's logits).
/// Tensors created by rewriting passes are listed in <see cref="OwnedTensors"/> and disposed with the graph;
/// tensors borrowed from the source module are not.
/// </summary>
public sealed class ModelGraph : IDisposable
{
    private readonly List<Tensor> ownedTensors;
    private IReadOnlyList<IReadOnlyList<GraphValue>>? lastUses;
    private IReadOnlyList<bool>? inPlaceActivations;

    /// <summary>The name a graph's only output has when its source gives none (a traced zoo model's logits).</summary>
    public const string DefaultOutputName = "output";

    public ModelGraph(IReadOnlyList<GraphNode> nodes, GraphValue input, GraphValue output, IEnumerable<Tensor>? ownedTensors = null)
        : this(nodes, input, [output], [DefaultOutputName], ownedTensors)
    {
    }

    /// <exception cref="ArgumentException">No output, a name per output missing, or a name given twice.</exception>
    public ModelGraph(
        IReadOnlyList<GraphNode> nodes, GraphValue input, IReadOnlyList<GraphValue> outputs, IReadOnlyList<string> outputNames,
        IEnumerable<Tensor>? ownedTensors = null)
    {
        if (outputs.Count == 0 || outputs.Count != outputNames.Count || outputNames.Distinct(StringComparer.Ordinal).Count() != outputNames.Count)
        {
            throw new ArgumentException(
                $"A graph needs one or more outputs, each with its own name; given {outputs.Count} values named {string.Join(", ", outputNames)}.");
        }
        Nodes = nodes;
        Input = input;
        Outputs = outputs;
        OutputNames = outputNames;
        this.ownedTensors = ownedTensors?.ToList() ?? [];
    }

    public IReadOnlyList<GraphNode> Nodes { get; }

    public GraphValue Input { get; }

    /// <summary>The first output: a classifier's logits, or the only output of most models.</summary>
    public GraphValue Output => Outputs[0];

    /// <summary>Every output the model gives, in its order; a pass that rewrites the graph keeps them (and <see cref="OutputNames"/>).</summary>
    public IReadOnlyList<GraphValue> Outputs { get; }

    /// <summary>Each output's name, by position in <see cref="Outputs"/>.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    public bool HasSeveralOutputs => Outputs.Count > 1;

    public InputNode InputNode => Nodes.OfType<InputNode>().Single();

    public GraphNode Producer(GraphValue value) => Nodes.First(n => n.Output == value);

    /// <summary>How many nodes read each value (each graph output counts as one reader).</summary>
    public Dictionary<GraphValue, int> UseCounts()
    {
        var uses = Nodes.ToDictionary(n => n.Output, _ => 0);
        foreach (var input in Nodes.SelectMany(n => n.Inputs))
        {
            uses[input]++;
        }
        foreach (var output in Outputs)
        {
            uses[output]++;
        }
        return uses;
    }

    /// <summary>
    /// For each node, by position, the values no later node reads (its inputs read for the last time, and its own output
    /// if nothing reads it): an interpreter frees them once the node has run, as torch.fx's <c>Interpreter</c> does with
    /// its last-use table. The graph's outputs are never among them. Computed once per graph.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<GraphValue>> LastUses => lastUses ??= ComputeLastUses();

    /// <summary>
    /// For each node, by position, whether it is a ReLU or clamp that may overwrite its input: the input is a conv's,
    /// BN's, add's or linear's fresh output (never a view of another value, a constant or the graph's input) and this node
    /// is its only reader (a graph output counts as one). Computed once per graph.
    /// </summary>
    public IReadOnlyList<bool> InPlaceActivations => inPlaceActivations ??= ComputeInPlaceActivations();

    /// <summary>Hands this graph's tensors to a graph a pass derived from it; this graph then owns nothing.</summary>
    public IReadOnlyList<Tensor> TakeOwnedTensors()
    {
        var taken = ownedTensors.ToList();
        ownedTensors.Clear();
        return taken;
    }

    private bool[] ComputeInPlaceActivations()
    {
        var uses = UseCounts();
        var producers = Nodes.ToDictionary(n => n.Output);
        return [.. Nodes.Select(node => node is ReLUNode or ClampNode && uses[node.Inputs[0]] == 1
            && producers[node.Inputs[0]] is Conv2dNode or BatchNorm2dNode or AddNode or LinearNode)];
    }

    private GraphValue[][] ComputeLastUses()
    {
        var lastUsed = new List<GraphValue>[Nodes.Count];
        var readLater = new HashSet<GraphValue>(Outputs);
        for (var i = Nodes.Count - 1; i >= 0; i--)
        {
            lastUsed[i] = [];
            foreach (var value in Nodes[i].Inputs.Prepend(Nodes[i].Output))
            {
                if (readLater.Add(value))
                {
                    lastUsed[i].Add(value);
                }
            }
        }
        return [.. lastUsed.Select(l => l.ToArray())];
    }

    public void Dispose()
    {
        foreach (var tensor in ownedTensors)
        {
            tensor.Dispose();
        }
        ownedTensors.Clear();
    }
}

namespace ModelOpt.Engine.Graph;

/// <summary>
/// A captured model: nodes in execution order (a topological order by construction), one input, one output.
/// Tensors created by rewriting passes are listed in <see cref="OwnedTensors"/> and disposed with the graph;
/// tensors borrowed from the source module are not.
/// </summary>
public sealed class ModelGraph : IDisposable
{
    private readonly List<Tensor> ownedTensors;
    private IReadOnlyList<IReadOnlyList<GraphValue>>? lastUses;

    public ModelGraph(IReadOnlyList<GraphNode> nodes, GraphValue input, GraphValue output, IEnumerable<Tensor>? ownedTensors = null)
    {
        Nodes = nodes;
        Input = input;
        Output = output;
        this.ownedTensors = ownedTensors?.ToList() ?? [];
    }

    public IReadOnlyList<GraphNode> Nodes { get; }

    public GraphValue Input { get; }

    public GraphValue Output { get; }

    public InputNode InputNode => Nodes.OfType<InputNode>().Single();

    public GraphNode Producer(GraphValue value) => Nodes.First(n => n.Output == value);

    /// <summary>How many nodes read each value (the graph output counts as one reader).</summary>
    public Dictionary<GraphValue, int> UseCounts()
    {
        var uses = Nodes.ToDictionary(n => n.Output, _ => 0);
        foreach (var input in Nodes.SelectMany(n => n.Inputs))
        {
            uses[input]++;
        }
        uses[Output]++;
        return uses;
    }

    /// <summary>
    /// For each node, by position, the values no later node reads (its inputs read for the last time, and its own output
    /// if nothing reads it): an interpreter frees them once the node has run, as torch.fx's <c>Interpreter</c> does with
    /// its last-use table. The graph's output is never among them. Computed once per graph.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<GraphValue>> LastUses => lastUses ??= ComputeLastUses();

    /// <summary>Hands this graph's tensors to a graph a pass derived from it; this graph then owns nothing.</summary>
    public IReadOnlyList<Tensor> TakeOwnedTensors()
    {
        var taken = ownedTensors.ToList();
        ownedTensors.Clear();
        return taken;
    }

    private GraphValue[][] ComputeLastUses()
    {
        var lastUsed = new List<GraphValue>[Nodes.Count];
        var readLater = new HashSet<GraphValue> { Output };
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

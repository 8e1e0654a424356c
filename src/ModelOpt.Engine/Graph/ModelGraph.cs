namespace ModelOpt.Engine.Graph;

/// <summary>
/// A captured model: nodes in execution order (a topological order by construction), one input, one output.
/// Tensors created by rewriting passes are listed in <see cref="OwnedTensors"/> and disposed with the graph;
/// tensors borrowed from the source module are not.
/// </summary>
public sealed class ModelGraph : IDisposable
{
    private readonly List<Tensor> ownedTensors;

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

    /// <summary>Hands this graph's tensors to a graph a pass derived from it; this graph then owns nothing.</summary>
    public IReadOnlyList<Tensor> TakeOwnedTensors()
    {
        var taken = ownedTensors.ToList();
        ownedTensors.Clear();
        return taken;
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

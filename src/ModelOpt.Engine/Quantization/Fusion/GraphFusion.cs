using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Quantization.Fusion;

/// <summary>
/// The graph rewrites prepare runs before observers go in: BN folding (PTQ folds first, as <c>prepare_pt2e</c> does),
/// then conv+relu, add+relu and linear+relu fusion, so that observers sit only where the int8 kernels produce outputs.
/// A fused node keeps the value id of the last node it replaces, so downstream readers need no rewiring.
/// </summary>
public static class GraphFusion
{
    /// <summary>ReLU6 is clamp(x, 0, 6).</summary>
    public const double ReLU6Max = 6;

    public static ModelGraph FoldBatchNorm(ModelGraph graph)
    {
        var uses = graph.UseCounts();
        var owned = new List<Tensor>();
        var convs = graph.Nodes.OfType<Conv2dNode>().ToDictionary(c => c.Output);
        var folded = new Dictionary<GraphValue, Conv2dNode>();
        foreach (var bn in graph.Nodes.OfType<BatchNorm2dNode>())
        {
            if (!convs.TryGetValue(bn.Input, out var conv) || uses[conv.Output] != 1)
            {
                throw new NotSupportedException($"BatchNorm {bn.Name} does not follow a conv it alone reads; it cannot be folded.");
            }
            var (weight, bias) = ConvBnFolding.FuseConvBnWeights(
                conv.Weight, conv.Bias, bn.RunningMean, bn.RunningVar, bn.Eps, bn.Weight, bn.Bias);
            owned.Add(weight);
            owned.Add(bias);
            folded[conv.Output] = conv with { Output = bn.Output, Weight = weight, Bias = bias };
        }

        var nodes = graph.Nodes
            .Where(n => n is not BatchNorm2dNode)
            .Select(n => n is Conv2dNode c && folded.TryGetValue(c.Output, out var f) ? f : n)
            .ToList();
        return new ModelGraph(nodes, graph.Input, graph.Outputs, graph.OutputNames, owned);
    }

    /// <summary>
    /// Turns the ReLU6 (clamp 0..6) that alone reads one of the convs in <paramref name="convs"/> into a ReLU: cross-layer
    /// equalization's rewrite (ADR-013), which <see cref="FuseReLU"/> then fuses like any conv+relu. Takes over the
    /// graph's tensors.
    /// </summary>
    public static ModelGraph ReplaceReLU6(ModelGraph graph, IReadOnlySet<string> convs)
    {
        var uses = graph.UseCounts();
        var producers = graph.Nodes.ToDictionary(n => n.Output);
        var nodes = graph.Nodes
            .Select(n => n is ClampNode { Min: 0, Max: ReLU6Max } clamp && uses[clamp.Input] == 1
                && producers[clamp.Input] is Conv2dNode conv && convs.Contains(conv.Name)
                    ? new ReLUNode(clamp.Output, clamp.Input)
                    : n)
            .ToList();
        return new ModelGraph(nodes, graph.Input, graph.Outputs, graph.OutputNames, graph.TakeOwnedTensors());
    }

    /// <summary>Fuses every ReLU into the conv, add or linear it follows, when that node's output feeds the ReLU alone.</summary>
    public static ModelGraph FuseReLU(ModelGraph graph)
    {
        var uses = graph.UseCounts();
        var producers = graph.Nodes.ToDictionary(n => n.Output);
        var fused = new Dictionary<GraphValue, GraphNode>();
        foreach (var relu in graph.Nodes.OfType<ReLUNode>())
        {
            if (uses[relu.Input] != 1)
            {
                continue;
            }
            GraphNode? replacement = producers[relu.Input] switch
            {
                Conv2dNode { Relu: false } conv => conv with { Output = relu.Output, Relu = true },
                AddNode { Relu: false } add => add with { Output = relu.Output, Relu = true },
                LinearNode { Relu: false } linear => linear with { Output = relu.Output, Relu = true },
                _ => null,
            };
            if (replacement is not null)
            {
                fused[relu.Input] = replacement;
            }
        }

        var nodes = graph.Nodes
            .Where(n => !(n is ReLUNode r && fused.ContainsKey(r.Input)))
            .Select(n => fused.TryGetValue(n.Output, out var f) ? f : n)
            .ToList();
        return new ModelGraph(nodes, graph.Input, graph.Outputs, graph.OutputNames, graph.TakeOwnedTensors());
    }
}

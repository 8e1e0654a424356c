using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Fusion;

namespace ModelOpt.Engine.Quantization.Algorithms;

/// <summary>
/// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization", section 4.1; AIMET's <c>equalize_model</c>):
/// when conv 1's output feeds only conv 2, through ReLU, ReLU6 or nothing, output channel i of conv 1 (weights and
/// bias) is divided by s_i and input channel i of conv 2 multiplied by it, with s_i = sqrt(r1_i * r2_i) / r2_i
/// (r = per-channel max |w|), so both layers end with the same range per channel and one per-tensor scale fits every
/// channel better. ReLU(x / s) = ReLU(x) / s for s &gt; 0, so the FP32 function is unchanged; ReLU6 is not homogeneous and
/// becomes ReLU inside an equalized pair, as DFQ and AIMET do (ADR-013).
/// </summary>
/// <remarks>
/// Convs are regular (groups 1) or depthwise (groups = in = out channels, AIMET's depthwise case): a depthwise conv's
/// output channel i reads only input channel i, so its one filter i is both its input and its output range. A chain of
/// pairs (MobileNetV2's expand -> depthwise -> project) shares its middle layers, so the pairs are swept in graph order
/// until no scale moves by more than <see cref="Tolerance"/>; on a conv -> depthwise -> conv chain this converges to
/// AIMET's closed form (cube roots of the three ranges).
/// </remarks>
public static class CrossLayerEqualization
{
    /// <summary>A sweep whose every |log s_i| is below this ends the iteration.</summary>
    public const double Tolerance = 1e-6;

    /// <summary>Long chains converge geometrically but slowly; past this many sweeps the last scales stand.</summary>
    public const int MaxSweeps = 1000;

    /// <summary>
    /// Folds BatchNorm (CLE works on folded weights) and equalizes every pair of <paramref name="captured"/>. The result
    /// owns its rewritten tensors and borrows the rest from <paramref name="captured"/>, which must outlive it.
    /// </summary>
    public static (ModelGraph Graph, CrossLayerEqualizationResult Result) Apply(ModelGraph captured)
    {
        ArgumentNullException.ThrowIfNull(captured);
        using var folded = GraphFusion.FoldBatchNorm(captured);
        var pairs = FindPairs(folded);
        using var noGrad = no_grad();
        var working = new Dictionary<string, (Tensor Weight, Tensor? Bias)>();
        try
        {
            foreach (var conv in pairs.SelectMany(p => new[] { p.First, p.Second }).DistinctBy(c => c.Name))
            {
                // Copies even of float64 weights: the sweeps scale them in place, and the originals are the caller's.
                working[conv.Name] = (conv.Weight.detach().to_type(ScalarType.Float64, copy: true), conv.Bias?.detach().to_type(ScalarType.Float64, copy: true));
            }
            var sweeps = 0;
            var converged = pairs.Count == 0;
            while (!converged && sweeps < MaxSweeps)
            {
                sweeps++;
                var largestStep = 0.0;
                foreach (var pair in pairs)
                {
                    largestStep = Math.Max(largestStep, Equalize(working[pair.First.Name], working[pair.Second.Name], pair.Second));
                }
                converged = largestStep < Tolerance;
            }

            var owned = new List<Tensor>();
            var rewritten = new Dictionary<GraphValue, GraphNode>();
            foreach (var conv in folded.Nodes.OfType<Conv2dNode>().Where(c => working.ContainsKey(c.Name)))
            {
                var (weight, bias) = working[conv.Name];
                var newWeight = weight.to_type(conv.Weight.dtype, copy: true);
                var newBias = conv.Bias is null ? null : bias!.to_type(conv.Bias.dtype, copy: true);
                owned.Add(newWeight);
                if (newBias is not null)
                {
                    owned.Add(newBias);
                }
                rewritten[conv.Output] = conv with { Weight = newWeight, Bias = newBias };
            }
            var nodes = folded.Nodes.Select(n => rewritten.GetValueOrDefault(n.Output, n)).ToList();
            var result = new CrossLayerEqualizationResult(
                [.. pairs.Select(p => new EqualizedPair(p.First.Name, p.Second.Name, p.Activation is ClampNode))], sweeps, converged);
            using var scaled = new ModelGraph(nodes, folded.Input, folded.Outputs, folded.OutputNames, [.. folded.TakeOwnedTensors(), .. owned]);
            return (GraphFusion.ReplaceReLU6(scaled, result.Relu6Replaced.ToHashSet()), result);
        }
        finally
        {
            foreach (var (weight, bias) in working.Values)
            {
                weight.Dispose();
                bias?.Dispose();
            }
        }
    }

    /// <summary>Per output channel, max |w| over everything the channel computes from (N x C x k x k -> N).</summary>
    public static Tensor OutputChannelRanges(Tensor weight) => weight.abs().amax([1, 2, 3]);

    /// <summary>Per input channel, max |w| over every filter that reads it; a depthwise conv's filter i reads channel i alone.</summary>
    public static Tensor InputChannelRanges(Tensor weight, long groups) =>
        groups == 1 ? weight.abs().amax([0, 2, 3]) : OutputChannelRanges(weight);

    // One DFQ step on a pair, in place on the float64 working copies; returns the largest |log s_i|.
    private static double Equalize((Tensor Weight, Tensor? Bias) first, (Tensor Weight, Tensor? Bias) second, Conv2dNode secondNode)
    {
        using var scope = NewDisposeScope();
        var r1 = OutputChannelRanges(first.Weight);
        var r2 = InputChannelRanges(second.Weight, secondNode.Groups);
        // A channel that is zero on either side carries nothing to balance: its scale stays 1.
        var live = r1.gt(0).logical_and(r2.gt(0));
        var s = where(live, (r1 / where(live, r2, ones_like(r2))).sqrt(), ones_like(r1));
        first.Weight.div_(s.reshape(-1, 1, 1, 1));
        first.Bias?.div_(s);
        second.Weight.mul_(secondNode.Groups == 1 ? s.reshape(1, -1, 1, 1) : s.reshape(-1, 1, 1, 1));
        return s.log().abs().max().item<double>();
    }

    private static List<Pair> FindPairs(ModelGraph folded)
    {
        var uses = folded.UseCounts();
        var producers = folded.Nodes.ToDictionary(n => n.Output);
        var pairs = new List<Pair>();
        foreach (var second in folded.Nodes.OfType<Conv2dNode>().Where(Supported))
        {
            if (uses[second.Input] != 1)
            {
                continue;
            }
            (GraphNode? Activation, GraphValue? FirstOutput) link = producers[second.Input] switch
            {
                ReLUNode relu => (relu, relu.Input),
                ClampNode { Min: 0, Max: GraphFusion.ReLU6Max } relu6 => (relu6, relu6.Input),
                Conv2dNode conv => (null, conv.Output),
                _ => (null, null),
            };
            if (link.FirstOutput is { } value && producers[value] is Conv2dNode first && Supported(first) && uses[value] == 1)
            {
                pairs.Add(new Pair(first, link.Activation, second));
            }
        }
        return pairs;
    }

    // Regular convs and depthwise ones with one filter per channel; other grouped convs mix channels within groups.
    private static bool Supported(Conv2dNode conv) =>
        conv.Groups == 1 || (conv.Groups == conv.OutChannels && conv.Weight.shape[1] == 1);

    private sealed record Pair(Conv2dNode First, GraphNode? Activation, Conv2dNode Second);
}

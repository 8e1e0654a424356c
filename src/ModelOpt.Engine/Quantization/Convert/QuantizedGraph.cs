using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Quantization.Convert;

/// <summary>
/// The result of convert: the BN-folded, relu-fused FP32 graph plus the calibrated quantization of every
/// activation that is quantized (the input, every conv / add / cat / linear output, FP32 values int8 kernels read;
/// pooling, flatten and clamp reuse their input's) and the int8 weights of every conv and linear node, keyed by node name. Backends (TorchScript int8,
/// ONNX QDQ, int8 safetensors) read only this.
/// </summary>
public sealed class QuantizedGraph(
    ModelGraph graph,
    IReadOnlyDictionary<GraphValue, ActivationQuantization> activations,
    IReadOnlyDictionary<string, WeightQuantization> weights,
    string qconfigDescription) : IDisposable
{
    public ModelGraph Graph { get; } = graph;

    public IReadOnlyDictionary<GraphValue, ActivationQuantization> Activations { get; } = activations;

    public IReadOnlyDictionary<string, WeightQuantization> Weights { get; private set; } = weights;

    public string QConfigDescription { get; } = qconfigDescription;

    /// <summary>The quantization of <paramref name="value"/>, following pooling, flatten and clamp back to the value they reuse.</summary>
    public ActivationQuantization QuantizationOf(GraphValue value) =>
        TryQuantizationOf(value) ?? throw new InvalidOperationException(
            $"Value {value} produced by {Graph.Producer(value).GetType().Name} has no quantization: it stays FP32.");

    /// <summary>Null when <paramref name="value"/> stays FP32 in the int8 model (see <see cref="X86InductorQuantizer.Annotate"/>).</summary>
    public ActivationQuantization? TryQuantizationOf(GraphValue value)
    {
        while (!Activations.ContainsKey(value))
        {
            var producer = Graph.Producer(value);
            if (!X86InductorQuantizer.SharesInputQuantization(producer))
            {
                return null;
            }
            value = producer.Inputs[0];
        }
        return Activations[value];
    }

    /// <summary>A conv or linear layer left in FP32 (<c>keepFloat</c>): it has no int8 weight.</summary>
    public bool IsKeptFloat(GraphNode node) => X86InductorQuantizer.LayerName(node) is { } name && !Weights.ContainsKey(name);

    /// <summary>The conv and linear layers left in FP32, in graph order.</summary>
    public IReadOnlyList<string> KeptFloatLayers() =>
        Graph.Nodes.Where(IsKeptFloat).Select(n => X86InductorQuantizer.LayerName(n)!).ToList();

    /// <summary>
    /// The nodes that compute in FP32 inside the int8 model (ops without an int8 kernel, layers kept FP32, and pooling,
    /// flatten or clamp of an FP32 value), as the manifest lists them; their output is still quantized where an int8 kernel reads it.
    /// </summary>
    public IReadOnlyList<string> FloatNodes() =>
        Graph.Nodes
            .Where(n => (X86InductorQuantizer.StaysFloat(n) && n is not ConstantNode) || IsKeptFloat(n)
                || (X86InductorQuantizer.SharesInputQuantization(n) && TryQuantizationOf(n.Inputs[0]) is null))
            .Select(Describe)
            .ToList();

    /// <summary>The float weight and bias of a layer kept FP32.</summary>
    public (Tensor Weight, Tensor? Bias) FloatParameters(string layer) =>
        Graph.Nodes.Single(n => X86InductorQuantizer.LayerName(n) == layer) switch
        {
            Conv2dNode conv => (conv.Weight, conv.Bias),
            LinearNode linear => (linear.Weight, linear.Bias),
            var other => throw new InvalidOperationException($"{other.GetType().Name} {layer} has no weight."),
        };

    private static string Describe(GraphNode node) => node switch
    {
        Conv2dNode conv => $"{conv.Name} (Conv2d)",
        LinearNode linear => $"{linear.Name} (Linear)",
        UnaryNode unary => $"{unary.Name} ({unary.Function})",
        MulNode mul => $"{mul.Name} (Mul)",
        SoftmaxNode softmax => $"{softmax.Name} (Softmax)",
        FloatOpNode op => $"{op.Name} ({op.Op.OpType})",
        _ => $"{node.Output} ({node.GetType().Name.Replace("Node", "")})",
    };

    /// <summary>
    /// Takes over new int8 weights for the same layers (quantization-aware training's), disposing the old ones; the
    /// activations' qparams and the graph's float tensors are unchanged.
    /// </summary>
    public void ReplaceWeights(IReadOnlyDictionary<string, WeightQuantization> weights)
    {
        if (!weights.Keys.Order(StringComparer.Ordinal).SequenceEqual(Weights.Keys.Order(StringComparer.Ordinal)))
        {
            throw new ArgumentException("The new int8 weights must be for the same layers.", nameof(weights));
        }
        var old = Weights;
        Weights = weights;
        DisposeWeights(old);
    }

    public void Dispose()
    {
        DisposeWeights(Weights);
        Graph.Dispose();
    }

    private static void DisposeWeights(IReadOnlyDictionary<string, WeightQuantization> weights)
    {
        foreach (var weight in weights.Values)
        {
            weight.IntWeight.Dispose();
            weight.Scales.Dispose();
            weight.ZeroPoints.Dispose();
            weight.Bias?.Dispose();
        }
    }
}

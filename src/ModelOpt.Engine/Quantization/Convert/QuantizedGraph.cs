using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Quantization.Convert;

/// <summary>
/// The result of convert: the BN-folded, relu-fused FP32 graph plus the calibrated quantization of every
/// activation that is quantized (the input, every conv / add / linear output; pooling and flatten reuse their
/// input's) and the int8 weights of every conv and linear node, keyed by node name. Backends (TorchScript int8,
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

    public IReadOnlyDictionary<string, WeightQuantization> Weights { get; } = weights;

    public string QConfigDescription { get; } = qconfigDescription;

    /// <summary>The quantization of <paramref name="value"/>, following pooling and flatten back to the value they reuse.</summary>
    public ActivationQuantization QuantizationOf(GraphValue value)
    {
        while (!Activations.ContainsKey(value))
        {
            value = Graph.Producer(value) switch
            {
                AdaptiveAvgPool2dNode pool => pool.Input,
                MaxPool2dNode pool => pool.Input,
                FlattenNode flatten => flatten.Input,
                var node => throw new InvalidOperationException($"Value {value} produced by {node.GetType().Name} has no quantization."),
            };
        }
        return Activations[value];
    }

    public void Dispose()
    {
        foreach (var weight in Weights.Values)
        {
            weight.IntWeight.Dispose();
            weight.Scales.Dispose();
            weight.ZeroPoints.Dispose();
            weight.Bias?.Dispose();
        }
        Graph.Dispose();
    }
}

using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Observers;

namespace ModelOpt.Engine.Quantization.Calibration;

/// <summary>
/// The result of prepare: the BN-folded, relu-fused graph with one activation observer per quantized value and one weight
/// observer per conv / linear node. Owns the graph's tensors until <see cref="QuantizePt2e.Convert"/> hands them to the
/// <see cref="Convert.QuantizedGraph"/>, and the observers always.
/// </summary>
public sealed class PreparedModel(
    ModelGraph graph,
    QConfig qconfig,
    IReadOnlyDictionary<GraphValue, ObserverBase> activationObservers,
    IReadOnlyDictionary<string, ObserverBase> weightObservers) : IDisposable
{
    public ModelGraph Graph { get; } = graph;

    public QConfig QConfig { get; } = qconfig;

    public IReadOnlyDictionary<GraphValue, ObserverBase> ActivationObservers { get; } = activationObservers;

    public IReadOnlyDictionary<string, ObserverBase> WeightObservers { get; } = weightObservers;

    public int BatchesObserved { get; internal set; }

    public long ImagesObserved { get; internal set; }

    public bool IsConverted { get; internal set; }

    public void Dispose()
    {
        foreach (var observer in ActivationObservers.Values.Concat(WeightObservers.Values))
        {
            observer.Dispose();
        }
        Graph.Dispose();
    }
}

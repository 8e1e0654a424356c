using System.Text.Json;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Quantization.Calibration;

/// <summary>
/// What calibration leaves behind (the Calibrate stage's product, <c>calibrated-activations.json</c>): the qparams every
/// activation observer of the all-int8 prepared model computed, keyed as int8 checkpoints key them (value id in the
/// BN-folded, ReLU-fused graph, checked against its producer), and the observer that computed them. Observers' raw
/// statistics are not kept: convert needs only the qparams (<see cref="QuantizePt2e.Convert"/>), as PyTorch's does.
/// </summary>
/// <param name="Observer">The activation observer that calibrated (the <c>auto</c> observer's winner when it chose).</param>
/// <param name="Images">The calibration images the observers saw.</param>
public sealed record CalibratedActivations(string Observer, long Images, IReadOnlyList<Int8ActivationEntry> Activations)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>The qparams of a calibrated prepared model (observers computed now).</summary>
    public static CalibratedActivations From(PreparedModel prepared, string observer)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var producers = prepared.Graph.Nodes.ToDictionary(n => n.Output);
        return new CalibratedActivations(
            observer,
            prepared.ImagesObserved,
            [.. QuantizePt2e.ActivationQParams(prepared)
                .OrderBy(kv => kv.Key.Id)
                .Select(kv => new Int8ActivationEntry(
                    kv.Key.Id, Int8ActivationEntry.Describe(producers[kv.Key]), kv.Value.Scale, kv.Value.ZeroPoint, kv.Value.Dtype.ToString(),
                    kv.Value.QuantMin, kv.Value.QuantMax))]);
    }

    /// <summary>The qparams by value of <paramref name="graph"/> (prepared from the same model), checked against its producers.</summary>
    /// <exception cref="QuantizationException">A recorded value is not produced by the same op in <paramref name="graph"/>.</exception>
    public IReadOnlyDictionary<GraphValue, ActivationQuantization> For(ModelGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var producers = graph.Nodes.ToDictionary(n => n.Output.Id);
        var activations = new Dictionary<GraphValue, ActivationQuantization>();
        foreach (var entry in Activations)
        {
            if (!producers.TryGetValue(entry.Value, out var producer) || Int8ActivationEntry.Describe(producer) != entry.Producer)
            {
                throw new QuantizationException(
                    $"The calibration recorded activation %{entry.Value} ({entry.Producer}), which this model does not have: run the job again from calibrate.");
            }
            activations[producer.Output] = entry.ToQuantization();
        }
        return activations;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CalibratedActivations FromJson(string json) =>
        JsonSerializer.Deserialize<CalibratedActivations>(json, Json) ?? throw new JsonException("The calibration file is empty.");
}

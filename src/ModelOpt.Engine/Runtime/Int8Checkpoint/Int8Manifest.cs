using System.Text.Json;
using System.Text.Json.Serialization;
using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>
/// The human-readable companion of an int8 checkpoint: what model it is, how it was quantized (every layer's weight
/// qparams in summary, every activation's scale and zero point, the nodes that stay FP32) and for which quantized engine. The pipeline adds
/// <see cref="Metrics"/> (accuracy, latency, size), the <see cref="InputTransform"/> and the <see cref="Calibration"/> sample once it has them.
/// A model with several outputs lists them in <see cref="OutputNames"/>, in the order the TorchScript module's tuple returns them.
/// </summary>
public sealed record Int8Manifest(
    string Format,
    string ModelName,
    long[] InputShape,
    long NumClasses,
    IReadOnlyList<string>? ClassNames,
    string QConfig,
    string QuantizedEngine,
    IReadOnlyList<Int8LayerSummary> Layers,
    IReadOnlyList<Int8ActivationEntry> Activations,
    IReadOnlyDictionary<string, double>? Metrics = null,
    IReadOnlyList<string>? Fp32Nodes = null,
    Int8InputTransform? InputTransform = null,
    Int8CalibrationRecord? Calibration = null,
    string? OutputName = null,
    IReadOnlyList<string>? OutputNames = null)
{
    public const string CurrentFormat = "modelopt-int8-manifest/1";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static Int8Manifest Create(QuantizedGraph quantized, Int8ModelDescriptor model, QEngine engine) => new(
        CurrentFormat, model.ModelName, model.InputShape, model.NumClasses, model.ClassNames, quantized.QConfigDescription,
        engine.ToString(), Int8LayerSummary.From(quantized), Int8ActivationEntry.From(quantized), Fp32Nodes: quantized.FloatNodes(),
        OutputName: model.OutputName, OutputNames: quantized.Graph.HasSeveralOutputs ? quantized.Graph.OutputNames : null);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static Int8Manifest FromJson(string json)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<Int8Manifest>(json, Json);
            return manifest is { Format: CurrentFormat }
                ? manifest
                : throw new Int8CheckpointException($"Not a ModelOpt int8 manifest (format '{manifest?.Format}', expected '{CurrentFormat}').");
        }
        catch (JsonException e)
        {
            throw new Int8CheckpointException($"The int8 manifest is not valid JSON: {e.Message}", e);
        }
    }
}

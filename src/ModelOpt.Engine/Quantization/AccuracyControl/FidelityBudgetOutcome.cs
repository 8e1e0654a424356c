using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Quantization.AccuracyControl;

/// <summary>
/// What a generic job's fidelity budget search found on its validation split (training images, never test images): the
/// target (<see cref="MinSqnrDb"/>, <see cref="MinAgreement"/>; either may be null), the all-int8 and delivered fidelity
/// against FP32 on the delivered kernels, and the layers left in FP32 (most sensitive first). When the target could not
/// be met with every layer but one in FP32, <see cref="FloatLayers"/> is the most faithful configuration tried.
/// </summary>
public sealed record FidelityBudgetOutcome(
    double? MinSqnrDb,
    double? MinAgreement,
    int ValidationImages,
    OutputFidelity Int8,
    OutputFidelity Delivered,
    IReadOnlyList<string> FloatLayers,
    bool WithinBudget)
{
    // The sentence goes into a stage result's note (1 024 characters); fidelity-budget.json lists every layer.
    private const int NamedLayers = 12;

    /// <summary>One sentence for the job's results, saying plainly whether the target was met.</summary>
    public string Describe()
    {
        var targets = new[]
        {
            MinSqnrDb is { } sqnr ? string.Create(CultureInfo.InvariantCulture, $"SQNR >= {sqnr:0.###} dB") : null,
            MinAgreement is { } agreement ? string.Create(CultureInfo.InvariantCulture, $"arg-max agreement >= {agreement:0.####}") : null,
        }.OfType<string>();
        var budget = $"fidelity target {string.Join(" and ", targets)} on {ValidationImages} validation images of the training split";
        var named = string.Join(", ", FloatLayers.Take(NamedLayers)) + (FloatLayers.Count > NamedLayers ? $", {FloatLayers.Count - NamedLayers} more" : "");
        var layers = FloatLayers.Count == 0 ? "no layer" : $"{FloatLayers.Count} layer(s) ({named})";
        var change = $"{Figures(Int8)} -> {Figures(Delivered)}";
        return WithinBudget ? $"{budget}: met with {layers} kept FP32 ({change})" : $"{budget}: NOT met; the most faithful model tried keeps {layers} FP32 ({change})";
    }

    private static string Figures(OutputFidelity fidelity) => string.Create(
        CultureInfo.InvariantCulture,
        $"SQNR {fidelity.SqnrDb:F2} dB{(fidelity.ArgmaxAgreement is { } agreement ? $", agreement {agreement:F4}" : "")}");

    public string ToJson() => JsonSerializer.Serialize(this, FidelityJson.Options);

    public static FidelityBudgetOutcome FromJson(string json) =>
        JsonSerializer.Deserialize<FidelityBudgetOutcome>(json, FidelityJson.Options) ?? throw new JsonException("The fidelity budget file is empty.");
}

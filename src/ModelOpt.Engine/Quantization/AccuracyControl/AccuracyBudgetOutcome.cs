using System.Globalization;
using System.Text.Json;

namespace ModelOpt.Engine.Quantization.AccuracyControl;

/// <summary>
/// What the accuracy budget search found on its validation split (training images, never test images): the FP32 and all-int8 top-1 (fractions), the layers it
/// left in FP32 (most sensitive first) and the top-1 of that mixed model on the int8 kernels it is delivered on. When the
/// budget could not be met with every layer but one in FP32, <see cref="FloatLayers"/> is the most accurate configuration
/// it tried.
/// </summary>
public sealed record AccuracyBudgetOutcome(
    double MaxAccuracyDrop,
    int ValidationImages,
    double Fp32Accuracy,
    double Int8Accuracy,
    double Accuracy,
    IReadOnlyList<string> FloatLayers,
    bool WithinBudget)
{
    // The sentence goes into a stage result's note (1 024 characters); accuracy-budget.json lists every layer.
    private const int NamedLayers = 12;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Top-1 points the all-int8 model lost against FP32 on the validation split.</summary>
    public double Int8Drop => 100 * (Fp32Accuracy - Int8Accuracy);

    /// <summary>Top-1 points the delivered (mixed) model loses against FP32 on the validation split.</summary>
    public double Drop => 100 * (Fp32Accuracy - Accuracy);

    /// <summary>One sentence for the job's results, saying plainly whether the budget was met.</summary>
    public string Describe()
    {
        var budget = string.Create(CultureInfo.InvariantCulture, $"accuracy budget {MaxAccuracyDrop:0.###} pt on {ValidationImages} validation images of the training split");
        var named = string.Join(", ", FloatLayers.Take(NamedLayers)) + (FloatLayers.Count > NamedLayers ? $", {FloatLayers.Count - NamedLayers} more" : "");
        var layers = FloatLayers.Count == 0 ? "no layer" : $"{FloatLayers.Count} layer(s) ({named})";
        var drop = string.Create(CultureInfo.InvariantCulture, $"drop {Int8Drop:F2} -> {Drop:F2} pt");
        return WithinBudget ? $"{budget}: met with {layers} kept FP32 ({drop})" : $"{budget}: NOT met; the best model tried keeps {layers} FP32 ({drop})";
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static AccuracyBudgetOutcome FromJson(string json) =>
        JsonSerializer.Deserialize<AccuracyBudgetOutcome>(json, Json) ?? throw new JsonException("The accuracy budget file is empty.");
}

using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Quantization.Algorithms;

/// <summary>
/// The <c>auto</c> activation observer: the model is calibrated with each candidate observer and the one whose
/// converted model scores best on the validation subset wins (the first candidate on a tie): top-1 for a classifier, the
/// SQNR of the output against FP32 for a generic job (ADR-020).
/// </summary>
/// <param name="Accuracies">The score on the validation subset per candidate, in the order tried: top-1 (fraction), or SQNR in dB (<see cref="Measure"/>).</param>
/// <param name="Measure">What the scores are: <see cref="Top1"/> or <see cref="SqnrDb"/>.</param>
public sealed record ActivationObserverSelection(string Winner, int ValidationImages, IReadOnlyDictionary<string, double> Accuracies, string Measure = ActivationObserverSelection.Top1)
{
    public const string Top1 = "top1";
    public const string SqnrDb = "sqnr_db";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <param name="quantize">Calibrates and converts the model with the named observer.</param>
    /// <param name="accuracy">The score (higher is better) of a converted model on the <paramref name="validationImages"/> validation images.</param>
    /// <param name="measure">What <paramref name="accuracy"/> gives: <see cref="Top1"/> or <see cref="SqnrDb"/>.</param>
    /// <returns>The selection and the winner's converted model (owned by the caller; the others are disposed).</returns>
    public static (ActivationObserverSelection Selection, QuantizedGraph Winner) Select(
        IReadOnlyList<string> candidates, Func<string, QuantizedGraph> quantize, Func<QuantizedGraph, double> accuracy, int validationImages,
        string measure = Top1)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(quantize);
        ArgumentNullException.ThrowIfNull(accuracy);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("The observer selection needs at least one candidate.", nameof(candidates));
        }
        var accuracies = new Dictionary<string, double>();
        (string Name, QuantizedGraph Graph)? best = null;
        try
        {
            foreach (var candidate in candidates)
            {
                var quantized = quantize(candidate);
                try
                {
                    accuracies[candidate] = accuracy(quantized);
                }
                catch
                {
                    quantized.Dispose();
                    throw;
                }
                // The first candidate wins a tie.
                if (best is null || accuracies[candidate] > accuracies[best.Value.Name])
                {
                    best?.Graph.Dispose();
                    best = (candidate, quantized);
                }
                else
                {
                    quantized.Dispose();
                }
            }
        }
        catch
        {
            best?.Graph.Dispose();
            throw;
        }
        return (new ActivationObserverSelection(best!.Value.Name, validationImages, accuracies, measure), best.Value.Graph);
    }

    /// <summary>One sentence for the job's results.</summary>
    public string Describe() =>
        $"observer auto: {Winner} won on {ValidationImages} validation images of the training split (" +
        string.Join(", ", Accuracies.Select(a => Measure == SqnrDb
            ? string.Create(CultureInfo.InvariantCulture, $"{a.Key} SQNR {a.Value:F2} dB")
            : string.Create(CultureInfo.InvariantCulture, $"{a.Key} {100 * a.Value:F2} %"))) + ")";

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ActivationObserverSelection FromJson(string json) =>
        JsonSerializer.Deserialize<ActivationObserverSelection>(json, Json) ?? throw new JsonException("The observer selection file is empty.");
}

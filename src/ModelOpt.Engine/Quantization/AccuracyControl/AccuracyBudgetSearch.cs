using ModelOpt.Engine.Quantization.Sensitivity;

namespace ModelOpt.Engine.Quantization.AccuracyControl;

/// <summary>
/// The accuracy budget, as NNCF's <c>quantize_with_accuracy_control(max_drop)</c>: while the int8 model's top-1 drop
/// against FP32 exceeds the budget, the next layer of the sensitivity ranking is left in FP32 and the model is measured
/// again. Once within budget, a backward pass NNCF does not make: each kept layer, the last added first, goes back to
/// int8 if the model stays within budget without it, since a ranking from a simulation on a few hundred images also
/// adds layers that only moved noise. The ranking may come from a cheap simulation; every accuracy the search compares
/// with the budget comes from <c>accuracyWithFloatLayers</c>, which should measure the model as it will be delivered.
/// The search itself is <see cref="LayerBudgetSearch"/>, shared with the fidelity budget.
/// </summary>
public static class AccuracyBudgetSearch
{
    // Accuracies are image counts over the subset; this absorbs the float rounding of their difference, nothing more.
    private const double Tolerance = 1e-9;

    /// <param name="fp32Accuracy">Top-1 (fraction) of the FP32 model on the validation subset.</param>
    /// <param name="ranking">The per-layer report, most sensitive first; at least one of its layers always stays int8.</param>
    /// <param name="accuracyWithFloatLayers">Top-1 (fraction) on the validation subset of the int8 model with those layers in FP32.</param>
    /// <param name="maxAccuracyDrop">Top-1 points, absolute.</param>
    public static AccuracyBudgetOutcome Search(
        double fp32Accuracy,
        IReadOnlyList<LayerSensitivity> ranking,
        Func<IReadOnlyList<string>, double> accuracyWithFloatLayers,
        double maxAccuracyDrop,
        int validationImages,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(accuracyWithFloatLayers);
        ArgumentOutOfRangeException.ThrowIfNegative(maxAccuracyDrop);
        bool Within(double accuracy) => 100 * (fp32Accuracy - accuracy) <= maxAccuracyDrop + Tolerance;
        var result = LayerBudgetSearch.Search(ranking, accuracyWithFloatLayers, Within, (a, b) => a > b, cancellationToken);
        return new AccuracyBudgetOutcome(
            maxAccuracyDrop, validationImages, fp32Accuracy, result.Int8, result.Delivered, result.FloatLayers, result.WithinBudget);
    }
}

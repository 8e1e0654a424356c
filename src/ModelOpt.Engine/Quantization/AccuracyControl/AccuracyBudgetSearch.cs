using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Sensitivity;

namespace ModelOpt.Engine.Quantization.AccuracyControl;

/// <summary>
/// The accuracy budget, as NNCF's <c>quantize_with_accuracy_control(max_drop)</c>: while the int8 model's top-1 drop
/// against FP32 exceeds the budget, the next layer of the sensitivity ranking is left in FP32 and the model is measured
/// again. Runs on the calibrated graph before it is saved (its nodes still hold the FP32 weights); every model it measures
/// is the fake-quantized simulation, so no conversion happens until the search is done.
/// </summary>
public static class AccuracyBudgetSearch
{
    // Accuracies are image counts over the subset; this absorbs the float rounding of their difference, nothing more.
    private const double Tolerance = 1e-9;

    /// <param name="ranking">The per-layer report, most sensitive first; at least one of its layers always stays int8.</param>
    /// <param name="maxAccuracyDrop">Top-1 points, absolute.</param>
    public static AccuracyBudgetOutcome Search(
        QuantizedGraph quantized,
        IReadOnlyList<LayerSensitivity> ranking,
        ImageDataset validation,
        double maxAccuracyDrop,
        int batchSize,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quantized);
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentOutOfRangeException.ThrowIfNegative(maxAccuracyDrop);
        var fp32 = AccuracyEvaluator.Measure(x => GraphInterpreter.Run(quantized.Graph, x), validation, batchSize: batchSize, cancellationToken: cancellationToken).Accuracy;
        bool Within(double accuracy) => 100 * (fp32 - accuracy) <= maxAccuracyDrop + Tolerance;

        var int8 = LayerSensitivityAnalysis.Accuracy(quantized, new HashSet<string>(), validation, batchSize, cancellationToken);
        var floatLayers = new List<string>();
        var accuracy = int8;
        var (bestAccuracy, bestCount) = (int8, 0);
        foreach (var layer in ranking.Take(ranking.Count - 1))
        {
            if (Within(accuracy))
            {
                break;
            }
            floatLayers.Add(layer.Layer);
            accuracy = LayerSensitivityAnalysis.Accuracy(quantized, floatLayers.ToHashSet(), validation, batchSize, cancellationToken);
            if (accuracy > bestAccuracy)
            {
                (bestAccuracy, bestCount) = (accuracy, floatLayers.Count);
            }
        }
        return Within(accuracy)
            ? new AccuracyBudgetOutcome(maxAccuracyDrop, validation.Count, fp32, int8, accuracy, floatLayers, WithinBudget: true)
            : new AccuracyBudgetOutcome(maxAccuracyDrop, validation.Count, fp32, int8, bestAccuracy, floatLayers.Take(bestCount).ToList(), WithinBudget: false);
    }
}

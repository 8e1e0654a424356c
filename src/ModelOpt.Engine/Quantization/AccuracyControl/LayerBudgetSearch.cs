using ModelOpt.Engine.Quantization.Sensitivity;

namespace ModelOpt.Engine.Quantization.AccuracyControl;

/// <summary>What <see cref="LayerBudgetSearch.Search{TScore}"/> found: the all-int8 score, the delivered model's, its FP32 layers.</summary>
public sealed record LayerBudgetResult<TScore>(TScore Int8, TScore Delivered, IReadOnlyList<string> FloatLayers, bool WithinBudget);

/// <summary>
/// The search behind both budgets (top-1 drop, <see cref="AccuracyBudgetSearch"/>; fidelity to FP32,
/// <see cref="FidelityBudgetSearch"/>), whatever the score: NNCF's <c>quantize_with_accuracy_control</c> forward pass
/// (the next layer of the ranking left in FP32 until the score is within budget), then a backward pass that returns each
/// kept layer, the last added first, to int8 while the model stays within budget without it. Out of budget with every
/// layer but one in FP32, the best configuration tried is the answer.
/// </summary>
public static class LayerBudgetSearch
{
    /// <param name="ranking">The per-layer report, most sensitive first; at least one of its layers always stays int8.</param>
    /// <param name="measure">The score of the int8 model with those layers in FP32, as it will be delivered.</param>
    /// <param name="within">Whether a score meets the budget.</param>
    /// <param name="better">Whether the first score is better than the second (for the best model tried when the budget is not met).</param>
    public static LayerBudgetResult<TScore> Search<TScore>(
        IReadOnlyList<LayerSensitivity> ranking,
        Func<IReadOnlyList<string>, TScore> measure,
        Func<TScore, bool> within,
        Func<TScore, TScore, bool> better,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(measure);
        var int8 = measure([]);
        var floatLayers = new List<string>();
        var score = int8;
        var (best, bestCount) = (int8, 0);
        foreach (var layer in ranking.Take(ranking.Count - 1))
        {
            if (within(score))
            {
                break;
            }
            cancellationToken.ThrowIfCancellationRequested();
            floatLayers.Add(layer.Layer);
            score = measure([.. floatLayers]);
            if (better(score, best))
            {
                (best, bestCount) = (score, floatLayers.Count);
            }
        }
        if (within(score))
        {
            foreach (var layer in floatLayers.AsEnumerable().Reverse().ToList())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var without = floatLayers.Where(l => l != layer).ToList();
                var withoutScore = floatLayers.Count == 1 ? int8 : measure(without);
                if (within(withoutScore))
                {
                    (floatLayers, score) = (without, withoutScore);
                }
            }
            return new LayerBudgetResult<TScore>(int8, score, floatLayers, WithinBudget: true);
        }
        return new LayerBudgetResult<TScore>(int8, best, floatLayers.Take(bestCount).ToList(), WithinBudget: false);
    }
}

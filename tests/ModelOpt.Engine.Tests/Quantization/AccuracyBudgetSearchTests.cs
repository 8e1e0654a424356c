using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Sensitivity;

namespace ModelOpt.Engine.Tests.Quantization;

/// <summary>The search's walk over a ranking, on accuracies given by rule: which configurations it measures and what it keeps.</summary>
public class AccuracyBudgetSearchTests
{
    private const double Fp32 = 0.800;

    private static readonly IReadOnlyList<LayerSensitivity> Ranking = [Layer("a"), Layer("b"), Layer("c"), Layer("d")];

    [Fact]
    public void Layers_the_budget_does_not_need_go_back_to_int8_after_it_is_met()
    {
        // Only "c" matters: int8 loses 1 point, "c" in FP32 restores it; "a" and "b" are ranked first but change nothing.
        var tried = new List<string>();
        double Accuracy(IReadOnlyList<string> floatLayers)
        {
            tried.Add(string.Join("+", floatLayers));
            return floatLayers.Contains("c") ? Fp32 : Fp32 - 0.010;
        }

        var outcome = AccuracyBudgetSearch.Search(Fp32, Ranking, Accuracy, maxAccuracyDrop: 0.3, validationImages: 1000);

        Assert.True(outcome.WithinBudget);
        Assert.Equal(["c"], outcome.FloatLayers);
        Assert.Equal(Fp32, outcome.Accuracy);
        // Forward until within budget, then each kept layer without it, the last added first.
        Assert.Equal(["", "a", "a+b", "a+b+c", "a+b", "a+c", "c"], tried);
    }

    [Fact]
    public void A_layer_whose_removal_breaks_the_budget_stays_in_FP32()
    {
        // Both "a" and "b" are needed: each restores half a point.
        double Accuracy(IReadOnlyList<string> floatLayers) => Fp32 - 0.010 + 0.005 * floatLayers.Count(l => l is "a" or "b");

        var outcome = AccuracyBudgetSearch.Search(Fp32, Ranking, Accuracy, maxAccuracyDrop: 0.3, validationImages: 1000);

        Assert.True(outcome.WithinBudget);
        Assert.Equal(["a", "b"], outcome.FloatLayers);
    }

    [Fact]
    public void A_model_within_budget_at_once_keeps_every_layer_int8_after_one_measurement()
    {
        var measured = 0;

        var outcome = AccuracyBudgetSearch.Search(Fp32, Ranking, _ => { measured++; return Fp32 - 0.002; }, maxAccuracyDrop: 0.3, validationImages: 1000);

        Assert.True(outcome.WithinBudget);
        Assert.Empty(outcome.FloatLayers);
        Assert.Equal(1, measured);
    }

    private static LayerSensitivity Layer(string name) => new(name, "conv2d", 30, 0.01, 0, 1, 0.01, 0, 0);
}

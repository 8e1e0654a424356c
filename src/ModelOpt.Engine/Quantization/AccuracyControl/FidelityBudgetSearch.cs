using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Quantization.Sensitivity;

namespace ModelOpt.Engine.Quantization.AccuracyControl;

/// <summary>
/// A generic job's budget (<c>minSqnrDb</c>, <c>minAgreement</c>): the search of <see cref="AccuracyBudgetSearch"/>
/// (<see cref="LayerBudgetSearch"/>) on fidelity to FP32 instead of top-1. Both targets must hold when both are given;
/// out of reach, the best model tried is the one with the highest SQNR (the highest agreement when only that is asked).
/// </summary>
public static class FidelityBudgetSearch
{
    // SQNR and agreement are ratios of float64 sums or counts: this absorbs their rounding, nothing more.
    private const double Tolerance = 1e-9;

    /// <param name="ranking">The per-layer report, most sensitive first; at least one of its layers always stays int8.</param>
    /// <param name="fidelityWithFloatLayers">Fidelity to FP32 on the validation split of the int8 model with those layers in FP32, as delivered.</param>
    public static FidelityBudgetOutcome Search(
        IReadOnlyList<LayerSensitivity> ranking,
        Func<IReadOnlyList<string>, OutputFidelity> fidelityWithFloatLayers,
        double? minSqnrDb,
        double? minAgreement,
        int validationImages,
        CancellationToken cancellationToken = default)
    {
        if (minSqnrDb is null && minAgreement is null)
        {
            throw new ArgumentException("A fidelity budget needs minSqnrDb, minAgreement or both.");
        }
        if (minAgreement is not (null or (>= 0 and <= 1)))
        {
            throw new ArgumentOutOfRangeException(nameof(minAgreement), minAgreement, "minAgreement is a share in [0, 1].");
        }
        bool Within(OutputFidelity fidelity) =>
            (minSqnrDb is not { } sqnr || fidelity.SqnrDb >= sqnr - Tolerance)
            && (minAgreement is not { } agreement || (fidelity.ArgmaxAgreement
                ?? throw new ArgumentException("minAgreement needs a class axis (output.classAxis).")) >= agreement - Tolerance);
        bool Better(OutputFidelity a, OutputFidelity b) =>
            minSqnrDb is not null ? a.SqnrDb > b.SqnrDb : (a.ArgmaxAgreement ?? 0) > (b.ArgmaxAgreement ?? 0);
        var result = LayerBudgetSearch.Search(ranking, fidelityWithFloatLayers, Within, Better, cancellationToken);
        return new FidelityBudgetOutcome(
            minSqnrDb, minAgreement, validationImages, result.Int8, result.Delivered, result.FloatLayers, result.WithinBudget);
    }
}

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// The compile stage's rule: a candidate whose accuracy differs from the converted model's by more than
/// <see cref="MaxAccuracyDifferencePoints"/> is rejected with the reason; the fastest survivor is chosen.
/// </summary>
public static class CandidateSelection
{
    public const double MaxAccuracyDifferencePoints = 0.1;

    // Accuracies are ratios of image counts: 0.5215 - 0.5205 is 0.10000000000000009 points in binary floating point.
    private const double ToleranceSlack = 1e-9;

    /// <summary>Whether <paramref name="accuracy"/> is within <see cref="MaxAccuracyDifferencePoints"/> of <paramref name="referenceAccuracy"/> (both fractions).</summary>
    public static bool IsWithinTolerance(double accuracy, double referenceAccuracy) =>
        Math.Abs(accuracy - referenceAccuracy) * 100 <= MaxAccuracyDifferencePoints + ToleranceSlack;

    /// <summary>Returns every candidate's metrics, the chosen one marked <c>Selected</c>, the others annotated.</summary>
    /// <param name="referenceAccuracy">The converted model's top-1, as a fraction in [0, 1].</param>
    public static IReadOnlyList<CompileCandidate> Select(IReadOnlyList<CompileCandidate> candidates, double referenceAccuracy)
    {
        var survivors = candidates.Where(c => IsWithinTolerance(c.Metrics.Accuracy, referenceAccuracy)).ToList();
        var chosen = survivors.MinBy(c => c.Metrics.LatencyMeanMs)
            ?? throw new InvalidOperationException(
                $"Every compile candidate differs from the converted model's accuracy ({referenceAccuracy:P2}) by more than {MaxAccuracyDifferencePoints} points.");

        return candidates.Select(c => c with
        {
            Metrics = c.Metrics with
            {
                Selected = ReferenceEquals(c, chosen),
                Note = ReferenceEquals(c, chosen) ? "selected: fastest within accuracy tolerance"
                    : survivors.Contains(c) ? $"slower than {chosen.Metrics.Backend}"
                    : $"rejected: accuracy {c.Metrics.Accuracy:P2} differs from the converted model's {referenceAccuracy:P2} by more than {MaxAccuracyDifferencePoints} points",
            },
        }).ToList();
    }
}

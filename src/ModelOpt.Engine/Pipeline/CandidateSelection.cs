using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// The compile stage's rules. A candidate replaces the converted form only if it is faster beyond the measured spread
/// (<see cref="IsFasterBeyondSpread"/>) and its accuracy stays within <see cref="MaxAccuracyDifferencePoints"/> of the
/// converted model's; otherwise the converted form stays selected.
/// </summary>
public static class CandidateSelection
{
    public const double MaxAccuracyDifferencePoints = 0.1;

    // Accuracies are ratios of image counts: 0.5215 - 0.5205 is 0.10000000000000009 points in binary floating point.
    private const double ToleranceSlack = 1e-9;

    /// <summary>Whether <paramref name="accuracy"/> is within <see cref="MaxAccuracyDifferencePoints"/> of <paramref name="referenceAccuracy"/> (both fractions).</summary>
    public static bool IsWithinTolerance(double accuracy, double referenceAccuracy) =>
        Math.Abs(accuracy - referenceAccuracy) * 100 <= MaxAccuracyDifferencePoints + ToleranceSlack;

    /// <summary>
    /// Whether <paramref name="candidate"/>'s slower quarter of runs is still faster than <paramref name="reference"/>'s
    /// faster quarter (upper quartile below lower quartile), both timed in the same interleaved rounds. Two forms whose
    /// timings overlap by more than that are the same speed as far as this machine can tell.
    /// </summary>
    public static bool IsFasterBeyondSpread(LatencyResult candidate, LatencyResult reference) =>
        candidate.UpperQuartileMs < reference.LowerQuartileMs;
}

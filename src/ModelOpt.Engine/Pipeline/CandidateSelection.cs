using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// The compile stage's rules. A candidate replaces the converted form only if it is faster beyond the measured spread
/// (<see cref="IsFasterBeyondSpread"/>) or round by round (<see cref="IsFasterInMostRounds"/>), and it loses at most <see cref="MaxAccuracyLossPoints"/> against the converted
/// model's accuracy (<see cref="KeepsAccuracy"/>; a generic job: <see cref="KeepsFidelity"/>); otherwise the converted form
/// stays selected.
/// </summary>
public static class CandidateSelection
{
    public const double MaxAccuracyLossPoints = 0.1;

    /// <summary>
    /// A generic job's counterpart of <see cref="MaxAccuracyLossPoints"/>: the most SQNR (dB) a faster form may lose against
    /// the converted form's, 10 log10(1.12), i.e. 12 % more noise energy against FP32 (ADR-020).
    /// </summary>
    public const double MaxSqnrLossDb = 0.5;

    /// <summary>
    /// The most often two forms of one speed may pass <see cref="IsFasterInMostRounds"/> by chance: 0.1 %, the quartile
    /// rule's 0.07 % at 20 rounds, rounded up.
    /// </summary>
    public const double RoundsSignificance = 0.001;

    // Accuracies are ratios of image counts: 0.5215 - 0.5205 is 0.10000000000000009 points in binary floating point.
    private const double ToleranceSlack = 1e-9;

    /// <summary>
    /// Whether <paramref name="accuracy"/> is at most <see cref="MaxAccuracyLossPoints"/> below <paramref name="referenceAccuracy"/>
    /// (both fractions). A gain is no reason to refuse a faster form: the fused oneDNN form rounds the residual add once
    /// instead of twice and scored 0.18 point above the converted form on resnet20 (ADR-011).
    /// </summary>
    public static bool KeepsAccuracy(double accuracy, double referenceAccuracy) =>
        (referenceAccuracy - accuracy) * 100 <= MaxAccuracyLossPoints + ToleranceSlack;

    /// <summary>
    /// Whether a generic job's form keeps the converted form's fidelity to FP32: its SQNR at most
    /// <see cref="MaxSqnrLossDb"/> below, and, where the output has a class axis, its arg-max agreement at most
    /// <see cref="MaxAccuracyLossPoints"/> points below (the top-1 rule, on agreement with FP32).
    /// </summary>
    public static bool KeepsFidelity(OutputFidelity candidate, OutputFidelity reference) =>
        candidate.SqnrDb >= reference.SqnrDb - MaxSqnrLossDb - ToleranceSlack
        && (candidate.ArgmaxAgreement is not { } agreement || reference.ArgmaxAgreement is not { } referenceAgreement
            || KeepsAccuracy(agreement, referenceAgreement));

    /// <summary>
    /// Whether <paramref name="candidate"/>'s slower quarter of runs is still faster than <paramref name="reference"/>'s
    /// faster quarter (upper quartile below lower quartile), both timed in the same interleaved rounds. Two forms whose
    /// timings overlap by more than that are the same speed as far as this machine can tell.
    /// </summary>
    public static bool IsFasterBeyondSpread(LatencyResult candidate, LatencyResult reference) =>
        candidate.UpperQuartileMs < reference.LowerQuartileMs;

    /// <summary>
    /// Whether every run of <paramref name="candidate"/> was faster than every run of <paramref name="reference"/>, over
    /// the same rounds. For two forms of the same speed, each of the C(2n, n) orders of their 2n runs is equally likely,
    /// so after n rounds each this happens by chance with probability 1 / C(2n, n): 1 / 3432 (0.03 %) at 7 rounds.
    /// </summary>
    public static bool IsFasterInEveryRun(LatencyResult candidate, LatencyResult reference) =>
        candidate.TimingsMs.Max() < reference.TimingsMs.Min();

    /// <summary>
    /// Whether <paramref name="candidate"/> was faster than <paramref name="reference"/> in so many of the rounds they shared
    /// that two forms of one speed would do it with probability at most <see cref="RoundsSignificance"/> (a one-sided sign
    /// test: for them each round is a fair coin). A load change between rounds moves both forms alike, so it widens the
    /// quartiles without changing who wins a round: the quartile rule alone kept a converted form that was slower in every
    /// round (issue 28: 19.5 ms delivered beside a 16.8 ms candidate). Needs 10 rounds (10 of 10), 18 of 20.
    /// </summary>
    public static bool IsFasterInMostRounds(LatencyResult candidate, LatencyResult reference) =>
        SignTestTail(SharedRounds(candidate, reference), RoundsWon(candidate, reference)) <= RoundsSignificance;

    /// <summary>The rounds both forms were timed in: a form stops being timed once it settles, never before the reference.</summary>
    public static int SharedRounds(LatencyResult candidate, LatencyResult reference) =>
        Math.Min(candidate.TimingsMs.Count, reference.TimingsMs.Count);

    /// <summary>In how many of the shared rounds <paramref name="candidate"/>'s run was faster than <paramref name="reference"/>'s.</summary>
    public static int RoundsWon(LatencyResult candidate, LatencyResult reference) =>
        Enumerable.Range(0, SharedRounds(candidate, reference)).Count(round => candidate.TimingsMs[round] < reference.TimingsMs[round]);

    /// <summary>The chance of at least <paramref name="wins"/> heads in <paramref name="rounds"/> fair coin flips.</summary>
    public static double SignTestTail(int rounds, int wins)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(wins);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(wins, rounds);
        var tail = 0.0;
        var binomial = 1.0; // C(rounds, k), from k = rounds down
        for (var k = rounds; k >= wins; k--)
        {
            tail += binomial;
            binomial = binomial * k / (rounds - k + 1);
        }
        return tail / Math.Pow(2, rounds);
    }
}

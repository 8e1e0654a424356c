using System.Globalization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// How the compile stage spends its time: every form is timed in the same interleaved rounds (at most
/// <see cref="MaxRounds"/>, fewer for a form that cannot win: <see cref="SettlingRounds"/>) as the converted form
/// (which is not scored again: its accuracy comes from the convert stage); then only the deliverable candidates that are
/// faster than it beyond the spread (<see cref="CandidateSelection.IsFasterBeyondSpread"/>) or round by round
/// (<see cref="CandidateSelection.IsFasterInMostRounds"/>) get an accuracy, fastest
/// median first, until one keeps the accuracy (<see cref="CandidateSelection.KeepsAccuracy"/>). A candidate whose logits on the first <see cref="ProbeImages"/> test
/// images (fewer when the job scores fewer) are bit-identical to the converted form's inherits its accuracy instead of
/// scoring the test set; every other one is scored on the converted form's test images, so that every accuracy in the
/// table is on the same images (issue 24). The other forms (slower ones, the FP32 baseline, contenders behind the chosen
/// one) are not scored and carry no accuracy: their score could not change the choice (issue 28).
/// </summary>
internal static class CompileScreening
{
    public const int ProbeImages = 256;

    /// <summary>
    /// At most this many interleaved rounds and warm-ups per form, whatever the job's timed runs: quartiles of 20 runs
    /// already separate forms that differ beyond noise, and the stage should cost a fraction of the job (issue 14).
    /// </summary>
    public const int MaxRounds = 20;

    /// <summary>Two warm-ups let TorchScript's profiling executor optimize the graph; the third is ONNX Runtime's first real run.</summary>
    public const int MaxWarmups = 3;

    /// <summary>
    /// After this many rounds a form stops being timed once it cannot win: an FP32 baseline at once (it is never
    /// delivered), a candidate when half its runs are no faster than the converted form's faster quarter (to win beyond
    /// the spread, three quarters of them must be faster than that) and it won at most half the rounds (to win round by
    /// round, it must win 18 of 20).
    /// </summary>
    public const int SettlingRounds = 5;

    /// <summary>
    /// From this many rounds on, the rounds end once every candidate still timed was faster than the converted form in
    /// every run (<see cref="CandidateSelection.IsFasterInEveryRun"/>): by chance 0.03 % of the time for two forms of the
    /// same speed, less than the quartile rule's 0.07 % at <see cref="MaxRounds"/>. A clear winner then costs 7 rounds, not 20.
    /// From this many rounds on, too, a candidate stops being timed once it cannot win (<see cref="CannotWin"/>).
    /// </summary>
    public const int DecisionRounds = 7;

    /// <param name="convertedAccuracy">The converted form's accuracy as the convert stage scored it.</param>
    /// <param name="report">Progress within the screening, in [0, 1], and what is running.</param>
    /// <param name="scoreEveryForm">Score every candidate, not only those whose score can change the choice (<see cref="CompileOptions.ScoreEveryForm"/>).</param>
    /// <returns>The converted form's row first, then one per candidate; exactly one is <c>Selected</c>.</returns>
    public static IReadOnlyList<CompileCandidate> Run(
        CompileForm converted,
        AccuracyResult convertedAccuracy,
        IReadOnlyList<CompileForm> candidates,
        ImageDataset test,
        long[] inputShape,
        EvaluationOptions options,
        string device,
        Action<double, string> report,
        CancellationToken cancellationToken,
        bool scoreEveryForm = false) =>
        Run(converted, FormScore.Of(convertedAccuracy), candidates, test, inputShape, options, device, report,
            forward => FormScore.Of(AccuracyEvaluator.Measure(forward, test, options.TestSubset, cancellationToken: cancellationToken)), cancellationToken,
            scoreEveryForm);

    /// <param name="convertedScore">The converted form's top-1 or fidelity as the convert stage measured it.</param>
    /// <param name="score">Scores a candidate as the converted form was scored (same images).</param>
    /// <param name="scoreEveryForm">Score every candidate, not only those whose score can change the choice (<see cref="CompileOptions.ScoreEveryForm"/>).</param>
    public static IReadOnlyList<CompileCandidate> Run(
        CompileForm converted,
        FormScore convertedScore,
        IReadOnlyList<CompileForm> candidates,
        ImageDataset test,
        long[] inputShape,
        EvaluationOptions options,
        string device,
        Action<double, string> report,
        Func<Func<Tensor, Tensor>, FormScore> score,
        CancellationToken cancellationToken,
        bool scoreEveryForm = false)
    {
        IReadOnlyList<CompileForm> forms = [converted, .. candidates];
        var screening = options with { WarmupRuns = Math.Min(options.WarmupRuns, MaxWarmups), TimedRuns = Math.Min(options.TimedRuns, MaxRounds) };
        report(0, $"timing {forms.Count} forms in {screening.TimedRuns} interleaved rounds");
        var latencies = InterleavedLatency.Measure(
            [.. forms.Select(f => f.Forward)], inputShape, screening,
            round => report(0.6 * round / screening.TimedRuns, $"timing {forms.Count} forms, round {round}/{screening.TimedRuns}"),
            cancellationToken, SettlingRounds,
            (form, reference, latency) => !forms[form].Deliverable
                || (latency.MedianMs >= reference.LowerQuartileMs && 2 * CandidateSelection.RoundsWon(latency, reference) <= reference.TimingsMs.Count)
                || (latency.TimingsMs.Count >= DecisionRounds && CannotWin(latency, reference, screening.TimedRuns)),
            DecisionRounds, (reference, latency) => CandidateSelection.IsFasterInEveryRun(latency, reference));
        var reference = latencies[0];

        var rejected = new bool[candidates.Count];
        int? chosen = null;
        // A settled form's rounds stopped before the converted form's: compared with rounds it did not share, it cannot win.
        bool Settled(int i) => latencies[i + 1].TimingsMs.Count < reference.TimingsMs.Count;
        bool BeyondSpread(int i) => CandidateSelection.IsFasterBeyondSpread(latencies[i + 1], reference);
        bool Contends(int i) => candidates[i].Deliverable && !Settled(i)
            && (BeyondSpread(i) || CandidateSelection.IsFasterInMostRounds(latencies[i + 1], reference));
        string Won(int i) => $"faster in {CandidateSelection.RoundsWon(latencies[i + 1], reference)} of {CandidateSelection.SharedRounds(latencies[i + 1], reference)} rounds";
        var contenders = Enumerable.Range(0, candidates.Count)
            .Where(Contends)
            .OrderBy(i => latencies[i + 1].MedianMs)
            .ToList();

        // Only a contender's score can change the choice, so only contenders are scored, fastest first, until one keeps
        // the accuracy (issue 28; the cost of scoring every form is in docs/BENCHMARKS.md); compile.scoreEveryForm scores the rest after the choice. An unscored form carries no
        // score: a figure on other images would not be comparable (issue 24).
        // Never more images than the job scores: a job on a test subset compares forms on that subset.
        using var probe = test.Take(Math.Min(ProbeImages, options.TestSubset ?? ProbeImages));
        Tensor? referenceLogits = null;
        var scores = new FormScore?[candidates.Count];
        var sources = new string?[candidates.Count];
        var toScore = scoreEveryForm ? [.. contenders, .. Enumerable.Range(0, candidates.Count).Except(contenders)] : contenders;
        try
        {
            foreach (var (i, rank) in toScore.Select((i, rank) => (i, rank)))
            {
                report(0.6 + 0.3 * rank / toScore.Count, $"{candidates[i].Backend}: comparing logits on the first {probe.Count} test images");
                referenceLogits ??= Logits(converted.Forward, probe);
                if (Probe(candidates[i].Forward, probe, referenceLogits))
                {
                    scores[i] = convertedScore;
                    sources[i] = $"{Measure(convertedScore)} inherited from {converted.Backend}: logits bit-identical on the first {probe.Count} test images";
                }
                else
                {
                    report(0.6 + 0.3 * rank / toScore.Count, $"{candidates[i].Backend}: scoring the test set");
                    scores[i] = score(candidates[i].Forward);
                    sources[i] = $"scored on the test set ({scores[i]!.ImagesScored} images, as the converted form)";
                }
                if (chosen is not null || !contenders.Contains(i))
                {
                    continue;
                }
                if (scores[i]!.Keeps(convertedScore))
                {
                    chosen = i;
                    if (!scoreEveryForm)
                    {
                        break;
                    }
                }
                else
                {
                    rejected[i] = true;
                }
            }
        }
        finally
        {
            referenceLogits?.Dispose();
        }

        var rows = new List<CompileCandidate>
        {
            Row(converted, convertedScore, reference, device, selected: chosen is null, chosen is null
                ? $"selected: the converted form ({converted.Description}), {WhyConverted()}; {Quartiles(reference)}; {Measure(convertedScore)} from the convert stage"
                : $"converted form ({converted.Description}): {candidates[chosen.Value].Backend} is faster ({Won(chosen.Value)}); {Quartiles(reference)}; {Measure(convertedScore)} from the convert stage"),
        };
        for (var i = 0; i < candidates.Count; i++)
        {
            var candidate = candidates[i];
            var latency = latencies[i + 1];
            var verdict = i == chosen ? $"selected: faster than the converted form {(BeyondSpread(i) ? "beyond the spread" : "round by round")}, {Won(i)}"
                : rejected[i] ? Rejection(scores[i]!, convertedScore)
                : !candidate.Deliverable ? "FP32 baseline, never delivered as the int8 model"
                : Contends(i) ? $"faster than the converted form, but slower than {candidates[chosen!.Value].Backend}"
                : $"not faster than the converted form beyond the spread or round by round ({Won(i)}{(FewRounds(i) ? ": too few rounds to decide, see evaluation.timedRuns" : "")})";
            var source = sources[i] ?? $"not scored: {(!candidate.Deliverable ? "a baseline" : Contends(i) ? "a faster form was selected first" : "it cannot replace the converted form")}, so its {Measure(convertedScore)} would decide nothing";
            rows.Add(Row(candidate, scores[i], latency, device, i == chosen, $"{verdict} ({candidate.Description}); {Quartiles(latency)}; {source}"));
        }
        return rows;

        // Why nothing replaced the converted form, in terms the user can act on: a faster-looking form that the timings
        // could not separate from it says so (a busy worker), and one that lost accuracy points to its row.
        string WhyConverted()
        {
            if (rejected.Any(r => r))
            {
                return "every candidate faster than it lost accuracy (see their rows)";
            }
            var lower = Enumerable.Range(0, candidates.Count)
                .Where(i => candidates[i].Deliverable && latencies[i + 1].MedianMs < reference.MedianMs)
                .OrderBy(i => latencies[i + 1].MedianMs)
                .Select(i => (int?)i)
                .FirstOrDefault();
            return lower is { } i
                ? string.Create(CultureInfo.InvariantCulture,
                    $"{candidates[i].Backend} had a lower median ({latencies[i + 1].MedianMs:F2} ms) but was {Won(i)}, {(FewRounds(i) ? FewRoundsAdvice : NoiseAdvice)}")
                : "no candidate faster beyond the spread or round by round";
        }

        // A candidate that won most of its rounds could have won round by round with more of them: the job's timed runs,
        // not the noise, set how many rounds it had.
        bool FewRounds(int i) => screening.TimedRuns < MaxRounds
            && 2 * CandidateSelection.RoundsWon(latencies[i + 1], reference) > CandidateSelection.SharedRounds(latencies[i + 1], reference);
    }

    private const string NoiseAdvice =
        "as two forms of one speed can be: the timings were too noisy to tell them apart (other work on the worker's cores); re-run when it is idle";

    private static readonly string FewRoundsAdvice = string.Create(CultureInfo.InvariantCulture,
        $"too few rounds to tell forms this close apart: the job's evaluation.timedRuns sets the compile stage's rounds (at most {MaxRounds}); raise it to {MaxRounds}");

    // An unscored form (score null) has no accuracy or fidelity and 0 images scored.
    /// <summary>
    /// Whether a candidate timed alongside <paramref name="reference"/> for some rounds so far can no longer win: it has
    /// lost so many rounds that it cannot pass <see cref="CandidateSelection.IsFasterInMostRounds"/> even if it wins all
    /// of the <paramref name="rounds"/> that are left, and its slower quarter is not faster than the converted form's
    /// faster quarter now. The second half is a judgement, as the median rule of <see cref="SettlingRounds"/> is: later
    /// rounds could still separate the quartiles; the stage gives that chance up for the rounds it saves (issue 28).
    /// </summary>
    internal static bool CannotWin(LatencyResult candidate, LatencyResult reference, int rounds)
    {
        var shared = CandidateSelection.SharedRounds(candidate, reference);
        var bestWins = CandidateSelection.RoundsWon(candidate, reference) + Math.Max(0, rounds - shared);
        return CandidateSelection.SignTestTail(Math.Max(rounds, shared), bestWins) > CandidateSelection.RoundsSignificance
            && !CandidateSelection.IsFasterBeyondSpread(candidate, reference);
    }

    private static CompileCandidate Row(CompileForm form, FormScore? score, LatencyResult latency, string device, bool selected, string note) => new(
        new StageMetrics(form.Backend, device, form.SizeBytes, score?.Accuracy?.Accuracy, score?.ImagesScored ?? 0, latency.MeanMs, latency.StdMs, latency.BatchSize,
            selected, note, score?.Fidelity),
        form.Artifact);

    private static string Measure(FormScore score) => score.Accuracy is null ? "fidelity" : "accuracy";

    private static string Rejection(FormScore candidate, FormScore converted) => candidate.Accuracy is { } accuracy
        ? $"rejected: accuracy {accuracy.Accuracy:P2} is more than {CandidateSelection.MaxAccuracyLossPoints} points below the converted model's {converted.Accuracy!.Accuracy:P2}"
        : string.Create(CultureInfo.InvariantCulture,
            $"rejected: {candidate.Describe()} against FP32 loses more than {CandidateSelection.MaxSqnrLossDb} dB (or {CandidateSelection.MaxAccuracyLossPoints} points of agreement) to the converted model's {converted.Describe()}");

    private static string Quartiles(LatencyResult latency) => string.Create(
        CultureInfo.InvariantCulture,
        $"median {latency.MedianMs:F2} ms, quartiles {latency.LowerQuartileMs:F2}-{latency.UpperQuartileMs:F2} ms over {latency.TimingsMs.Count} rounds");

    private static Tensor Logits(Func<Tensor, Tensor> forward, ImageDataset images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var logits = images.Batches(AccuracyEvaluator.DefaultBatchSize).Select(batch => forward(batch.Images)).ToList();
        return cat(logits, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Whether the form's logits on the probe images are bit-identical to the converted form's.</summary>
    private static bool Probe(Func<Tensor, Tensor> forward, ImageDataset probe, Tensor referenceLogits)
    {
        using var logits = Logits(forward, probe);
        return logits.shape.SequenceEqual(referenceLogits.shape) && Equal(logits, referenceLogits);
    }

    private static bool Equal(Tensor left, Tensor right)
    {
        using var equal = left.eq(right);
        using var all = equal.all();
        return all.item<bool>();
    }
}

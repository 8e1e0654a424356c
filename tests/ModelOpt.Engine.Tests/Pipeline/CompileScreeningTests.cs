using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Pipeline;

/// <summary>The compile stage's selection on the trained resnet20's int8 model, with forms that are known to be faster, equal or wrong.</summary>
[Collection(TrainedResNet20Collection.Name)]
public sealed class CompileScreeningTests : IDisposable
{
    private const int TestImages = 512;

    private const int DelayMs = 250;

    private static readonly EvaluationOptions Options = new() { TestSubset = TestImages, LatencyBatchSize = 32, WarmupRuns = 3, TimedRuns = 8 };

    private readonly TrainedResNet20 trained;
    private readonly TorchScriptInt8Model converted;
    private readonly TorchScriptInt8Model reloaded;
    private readonly AccuracyResult convertedAccuracy;

    public CompileScreeningTests(TrainedResNet20 trained)
    {
        this.trained = trained;
        using var quantized = QuantizedModels.Quantize(trained.Model, [1, FashionMnist.Channels, 32, 32], QuantizedModels.Default());
        converted = TorchScriptInt8Model.Build(quantized);
        reloaded = TorchScriptInt8Model.Load(converted.Serialize());
        convertedAccuracy = AccuracyEvaluator.Measure(converted.Run, trained.Data.Test, TestImages);
    }

    [Fact]
    public void A_form_only_as_fast_as_the_converted_one_leaves_the_converted_form_selected_and_is_not_scored()
    {
        // The same module twice: any difference is noise. At 20 rounds two identical forms pass the rule by chance
        // 0.07 % of the time (numpy simulation of the quartile rule on identical distributions; 3 % at 8 rounds).
        // A reloaded copy is not used here: it ran measurably faster than the built module in one run.
        var rows = Screen(Form("converted", converted.Run), Form("again", converted.Run), Options with { TimedRuns = CompileScreening.MaxRounds });

        Assert.True(rows[0].Metrics.Selected, $"{rows[0].Metrics.Note} / {rows[1].Metrics.Note}");
        Assert.StartsWith("selected: the converted form", rows[0].Metrics.Note);
        Assert.Equal(convertedAccuracy.ImagesScored, rows[0].Metrics.ImagesScored);
        var candidate = rows[1].Metrics;
        Assert.False(candidate.Selected);
        Assert.StartsWith("not faster than the converted form beyond the spread", candidate.Note);
        // Its accuracy could not change the choice: no figure rather than one on other images (issue 28).
        Assert.Contains("not scored: it cannot replace the converted form", candidate.Note);
        Assert.Null(candidate.Accuracy);
        Assert.Equal(0, candidate.ImagesScored);
    }

    [Fact]
    public void A_bit_identical_form_faster_beyond_the_spread_is_selected_with_the_inherited_accuracy()
    {
        var rows = Screen(Form("converted-delayed", Delayed(converted)), Form("reloaded", reloaded.Run));

        Assert.False(rows[0].Metrics.Selected, $"{rows[0].Metrics.Note} / {rows[1].Metrics.Note}");
        var candidate = rows[1].Metrics;
        Assert.True(candidate.Selected, candidate.Note);
        Assert.Contains("inherited", candidate.Note);
        Assert.Equal(convertedAccuracy.ImagesScored, candidate.ImagesScored);
        Assert.True(candidate.LatencyMeanMs < rows[0].Metrics.LatencyMeanMs);
        // Faster in every run: decided before the job's 8 rounds.
        Assert.Contains($"over {CompileScreening.DecisionRounds} rounds", candidate.Note);
        Assert.Contains($"over {CompileScreening.DecisionRounds} rounds", rows[0].Metrics.Note);
    }

    [Fact]
    public void A_faster_form_with_other_logits_is_scored_on_the_test_set_and_rejected_when_its_accuracy_moves()
    {
        // Rescaled logits keep every prediction: scored, within tolerance. Negated logits invert them: rejected.
        var rescaled = Screen(Form("converted-delayed", Delayed(converted)), Form("rescaled", x => reloaded.Run(x).mul(2)));
        var negated = Screen(Form("converted-delayed", Delayed(converted)), Form("negated", x => reloaded.Run(x).neg()));

        Assert.True(rescaled[1].Metrics.Selected, rescaled[1].Metrics.Note);
        Assert.Contains("scored on the test set", rescaled[1].Metrics.Note);
        Assert.Equal(TestImages, rescaled[1].Metrics.ImagesScored);
        Assert.Equal(convertedAccuracy.Accuracy, rescaled[1].Metrics.Accuracy);
        Assert.True(negated[0].Metrics.Selected, negated[0].Metrics.Note);
        Assert.StartsWith("rejected: accuracy", negated[1].Metrics.Note + " / " + negated[0].Metrics.Note);
        Assert.Equal(TestImages, negated[1].Metrics.ImagesScored);
    }

    [Fact]
    public void An_FP32_baseline_is_never_selected_however_fast()
    {
        var rows = Screen(Form("converted-delayed", Delayed(converted)), Form("fp32", reloaded.Run, deliverable: false));

        Assert.True(rows[0].Metrics.Selected);
        Assert.StartsWith("FP32 baseline", rows[1].Metrics.Note);
        Assert.Contains("not scored: a baseline", rows[1].Metrics.Note);
        Assert.Null(rows[1].Metrics.Accuracy);
        // A baseline cannot win, so it is timed only until the rounds settle, and then nothing is left to compare with.
        Assert.Contains($"over {CompileScreening.SettlingRounds} rounds", rows[1].Metrics.Note);
        Assert.Contains($"over {CompileScreening.SettlingRounds} rounds", rows[0].Metrics.Note);
    }

    [Fact]
    public void Score_every_form_scores_a_form_that_cannot_win_on_the_converted_form_s_test_images()
    {
        // A baseline is never delivered, so only compile.scoreEveryForm scores it; negated logits are not bit-identical.
        var rows = Screen(Form("converted", converted.Run), Form("negated-fp32", x => reloaded.Run(x).neg(), deliverable: false), scoreEveryForm: true);

        Assert.True(rows[0].Metrics.Selected, rows[0].Metrics.Note);
        var baseline = rows[1].Metrics;
        Assert.Contains("scored on the test set", baseline.Note);
        Assert.Equal(TestImages, baseline.ImagesScored);
        Assert.Equal(AccuracyEvaluator.Measure(x => reloaded.Run(x).neg(), trained.Data.Test, TestImages).Accuracy, baseline.Accuracy);
    }

    [Fact]
    public void A_candidate_slower_beyond_the_spread_stops_being_timed_once_the_rounds_settle()
    {
        var rows = Screen(Form("converted", converted.Run), Form("slow", Delayed(reloaded)));

        Assert.True(rows[0].Metrics.Selected, rows[0].Metrics.Note);
        Assert.StartsWith("not faster than the converted form beyond the spread", rows[1].Metrics.Note);
        Assert.Contains($"over {CompileScreening.SettlingRounds} rounds", rows[1].Metrics.Note);
        Assert.Contains($"over {CompileScreening.SettlingRounds} rounds", rows[0].Metrics.Note);
    }

    [Fact]
    public void A_form_faster_in_every_round_is_selected_when_the_load_between_rounds_makes_the_quartiles_overlap()
    {
        // Both forms wait LoadSwingMs in every other round (the load changing between rounds), the converted one
        // FasterByMs more in every round: quartiles overlap, every round is the candidate's (issue 28).
        var options = Options with { TimedRuns = CompileScreening.MaxRounds };
        var rows = Screen(
            Form("converted-loaded", LoadedRounds(converted, _ => FasterByMs, options)), Form("reloaded-loaded", LoadedRounds(reloaded, _ => 0, options)), options);

        var candidate = rows[1].Metrics;
        Assert.True(candidate.Selected, $"{rows[0].Metrics.Note} / {candidate.Note}");
        Assert.StartsWith("selected: faster than the converted form round by round", candidate.Note);
        Assert.Contains("inherited", candidate.Note);
        Assert.Contains($"over {CompileScreening.MaxRounds} rounds", candidate.Note);
    }

    [Fact]
    public void A_form_that_lost_one_round_of_a_short_screening_names_the_setting_that_gives_it_more()
    {
        // Ten rounds (the quickstart's timedRuns): round by round a form must then win all ten. This one loses round 1 (a
        // loaded one) by FasterByMs and wins every other round by as much, so its median is lower; once it cannot win all
        // ten, it stops being timed.
        var options = Options with { TimedRuns = 10 };
        var rows = Screen(
            Form("converted-loaded", LoadedRounds(converted, _ => FasterByMs, options)),
            Form("reloaded-loaded", LoadedRounds(reloaded, round => round == 1 ? 2 * FasterByMs : 0, options)), options);

        var note = rows[0].Metrics.Note!;
        Assert.True(rows[0].Metrics.Selected, $"{note} / {rows[1].Metrics.Note}");
        Assert.Contains("reloaded-loaded had a lower median", note);
        Assert.Contains($"faster in {CompileScreening.DecisionRounds - 1} of {CompileScreening.DecisionRounds} rounds", note);
        Assert.Contains($"evaluation.timedRuns sets the compile stage's rounds (at most {CompileScreening.MaxRounds})", note);
        // The candidate's own row says the same, not only "not faster ... round by round" beside the rounds it won.
        Assert.Contains($"rounds: too few rounds to decide, see evaluation.timedRuns)", rows[1].Metrics.Note);
    }

    public void Dispose()
    {
        converted.Dispose();
        reloaded.Dispose();
    }

    private IReadOnlyList<CompileCandidate> Screen(CompileForm reference, CompileForm candidate, EvaluationOptions? options = null, bool scoreEveryForm = false)
    {
        using (reference)
        using (candidate)
        {
            return CompileScreening.Run(
                reference, convertedAccuracy, [candidate], trained.Data.Test, [FashionMnist.Channels, 32, 32], options ?? Options, "cpu",
                (_, _) => { }, CancellationToken.None, scoreEveryForm);
        }
    }

    // A delay rather than extra compute: on cores shared with other builds, only a wall-clock wait stays slower by a known margin.
    private static Func<Tensor, Tensor> Delayed(TorchScriptInt8Model model) => x =>
    {
        Thread.Sleep(DelayMs);
        return model.Run(x);
    };

    private const int LoadSwingMs = 40;

    private const int FasterByMs = 15;

    // Waits only in the timed run of each round (each visit runs the form untimed first, after the warm-ups), so that
    // the rounds cost little: LoadSwingMs in odd rounds, plus extraMs(round); nothing once the rounds are over.
    private static Func<Tensor, Tensor> LoadedRounds(TorchScriptInt8Model model, Func<int, int> extraMs, EvaluationOptions options)
    {
        var calls = 0;
        return x =>
        {
            var call = calls++ - Math.Min(options.WarmupRuns, CompileScreening.MaxWarmups);
            var round = call / 2;
            if (call >= 0 && call % 2 == 1 && round < options.TimedRuns)
            {
                Thread.Sleep(extraMs(round) + (round % 2 == 1 ? LoadSwingMs : 0));
            }
            return model.Run(x);
        };
    }

    private static CompileForm Form(string backend, Func<Tensor, Tensor> forward, bool deliverable = true) =>
        new(backend, forward, 1000, new StageArtifact(backend, "/dev/null", "application/octet-stream"), deliverable, backend);
}

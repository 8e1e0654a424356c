using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Sensitivity;

namespace ModelOpt.Engine.Tests.Evaluation;

/// <summary>ADR-020's definitions on tensors small enough to work out by hand.</summary>
public class FidelityTests
{
    [Fact]
    public void Identical_outputs_have_infinite_SQNR_cosine_one_no_error_and_full_agreement()
    {
        using var output = tensor(new float[] { 0.5f, -2f, 3f, 1f, 0f, -1f }).view(2, 3);
        var accumulator = new FidelityAccumulator("logits", classAxis: 1);

        accumulator.Add(output, output.clone());
        var fidelity = accumulator.Result();

        Assert.Equal(double.PositiveInfinity, fidelity.SqnrDb);
        Assert.Equal(1.0, fidelity.CosineSimilarity, 12);
        Assert.Equal(0.0, fidelity.MeanAbsError);
        Assert.Equal(0.0, fidelity.MaxAbsError);
        Assert.Equal(1.0, fidelity.ArgmaxAgreement);
        Assert.Equal(2, fidelity.Images);
        Assert.Equal(1, fidelity.ClassAxis);
    }

    [Fact]
    public void Known_noise_gives_the_SQNR_cosine_and_errors_worked_out_by_hand()
    {
        // FP32 (3, 4), the form (4, 2): signal 9 + 16 = 25, noise 1 + 4 = 5, SQNR 10 log10(5) dB;
        // cosine (12 + 8) / (5 sqrt(20)); |error| 1 and 2: mean 1.5, max 2.
        using var fp32 = tensor(new float[] { 3f, 4f }).view(1, 2);
        using var form = tensor(new float[] { 4f, 2f }).view(1, 2);
        var accumulator = new FidelityAccumulator("map", classAxis: null);

        accumulator.Add(fp32, form);
        var fidelity = accumulator.Result();

        Assert.Equal(10 * Math.Log10(5), fidelity.SqnrDb, 12);
        Assert.Equal(20 / (5 * Math.Sqrt(20)), fidelity.CosineSimilarity, 12);
        Assert.Equal(1.5, fidelity.MeanAbsError, 12);
        Assert.Equal(2.0, fidelity.MaxAbsError, 12);
        Assert.Null(fidelity.ArgmaxAgreement);
        Assert.Null(fidelity.ClassAxis);
    }

    [Fact]
    public void Sums_stream_over_batches_so_two_halves_give_what_the_whole_gives()
    {
        var generator = new Generator(seed: 7);
        using var fp32 = randn([6, 2, 5], generator: generator);
        using var form = fp32 + 0.1 * randn([6, 2, 5], generator: generator);
        var whole = new FidelityAccumulator("sequence", classAxis: -1);
        var halves = new FidelityAccumulator("sequence", classAxis: -1);

        whole.Add(fp32, form);
        halves.Add(fp32[..3], form[..3]);
        halves.Add(fp32[3..], form[3..]);

        var (a, b) = (whole.Result(), halves.Result());
        Assert.Equal(a.SqnrDb, b.SqnrDb, 9);
        Assert.Equal(a.CosineSimilarity, b.CosineSimilarity, 12);
        Assert.Equal(a.MeanAbsError, b.MeanAbsError, 12);
        Assert.Equal(a.MaxAbsError, b.MaxAbsError);
        Assert.Equal(a.ArgmaxAgreement, b.ArgmaxAgreement);
        Assert.Equal(6, b.Images);
    }

    [Fact]
    public void Agreement_counts_positions_on_the_class_axis_of_a_sequence()
    {
        // One image, T = 3 positions, C = 2 classes (axis -1): FP32 picks 1, 0, 1; the form 1, 1, 1: 2 of 3 agree.
        using var fp32 = tensor(new float[] { 0f, 1f, 2f, 1f, -1f, 3f }).view(1, 3, 2);
        using var form = tensor(new float[] { 0f, 1f, 1f, 2f, -1f, 3f }).view(1, 3, 2);
        var accumulator = new FidelityAccumulator("sequence_logits", classAxis: -1);

        accumulator.Add(fp32, form);

        Assert.Equal(2.0 / 3, accumulator.Result().ArgmaxAgreement!.Value, 12);
    }

    [Fact]
    public void A_class_axis_that_is_the_batch_axis_or_missing_is_refused_in_the_users_terms()
    {
        using var output = zeros(2, 3);
        var batchAxis = Assert.Throws<ArgumentException>(() => new FidelityAccumulator("logits", classAxis: 0).Add(output, output));
        var missing = Assert.Throws<ArgumentException>(() => new FidelityAccumulator("logits", classAxis: -3).Add(output, output));

        Assert.Contains("classAxis 0 is not an axis of output 'logits'", batchAxis.Message);
        Assert.Contains("give 1 to 1 or -1 to -1", missing.Message);
    }

    [Fact]
    public void A_form_whose_output_shape_differs_from_FP32_is_refused()
    {
        using var fp32 = zeros(2, 3);
        using var form = zeros(2, 4);

        var error = Assert.Throws<ArgumentException>(() => new FidelityAccumulator("logits", null).Add(fp32, form));

        Assert.Contains("Output 'logits' is (2, 4) where the FP32 model's is (2, 3)", error.Message);
    }

    [Fact]
    public void The_evaluator_compares_each_batch_with_the_reference_rows_of_the_same_images()
    {
        using var splits = SyntheticDataset.Create(trainCount: 2, testCount: 10);
        // A "model" that halves its input: against the input itself every element's error is half of it, so SQNR is
        // 10 log10(Σx² / Σ(x/2)²) = 10 log10(4) whatever the images, and the cosine is 1.
        Tensor Identity(Tensor x) => x.clone();
        using var reference = FidelityEvaluator.Outputs(Identity, splits.Test, batchSize: 3);

        var fidelity = Assert.Single(FidelityEvaluator.Measure(
            x => x / 2, splits.Test, reference, new OutputLayout([new("image", [3, 32, 32])]), classAxis: null, batchSize: 4));

        Assert.Equal([10L, 3, 32, 32], reference.shape);
        Assert.Equal(10 * Math.Log10(4), fidelity.SqnrDb, 6);
        Assert.Equal(1.0, fidelity.CosineSimilarity, 6);
        Assert.Equal(10, fidelity.Images);
    }

    [Fact]
    public void Two_packed_outputs_are_measured_each_on_its_own_values()
    {
        using var splits = SyntheticDataset.Create(trainCount: 2, testCount: 6);
        // Two "outputs" of each image: a (2, 3) map and a row of 4. The form halves the first and adds a known offset to
        // the second, so each output's figures are worked out by hand from its own values only.
        var layout = new OutputLayout([new("map", [2, 3]), new("row", [4])]);
        Tensor Outputs(Tensor x, bool form)
        {
            var map = x[.., 0, ..2, ..3];
            var row = x[.., 1, 0, ..4] + 1;
            return layout.Pack(form ? [map / 2, row + 0.25] : [map, row]);
        }
        using var reference = FidelityEvaluator.Outputs(x => Outputs(x, form: false), splits.Test, batchSize: 4);
        using var rows = reference.narrow(1, 6, 4);
        var rowSqnr = 10 * Math.Log10(rows.square().sum().item<float>() / (rows.numel() * 0.0625));

        var fidelity = FidelityEvaluator.Measure(x => Outputs(x, form: true), splits.Test, reference, layout, classAxis: null, batchSize: 4);

        Assert.Equal([6L, 10], reference.shape);
        Assert.Equal(["map", "row"], fidelity.Select(f => f.Output));
        Assert.Equal(10 * Math.Log10(4), fidelity[0].SqnrDb, 6);
        Assert.Null(fidelity[0].ArgmaxAgreement); // 3-D (N, 2, 3): no class axis unless the job names one
        Assert.Equal(rowSqnr, fidelity[1].SqnrDb, 4);
        Assert.Equal(0.25, fidelity[1].MaxAbsError, 5);
        Assert.Equal(1.0, fidelity[1].ArgmaxAgreement); // 2-D (N, 4): axis 1, and a constant offset keeps every arg-max
        Assert.Equal([6L, 2, 3], layout.Unpack(reference)[0].shape);
    }

    [Fact]
    public void A_decision_reads_each_figure_at_its_worst_output_and_a_single_output_as_it_is()
    {
        var map = new OutputFidelity("map", 8, 30, 0.99, 0.1, 2, null, null);
        var logits = new OutputFidelity("logits", 8, 20, 0.999, 0.01, 5, 1, 0.95);

        var worst = FidelityEvaluator.Worst([map, logits]);

        Assert.Equal(new OutputFidelity("worst of map, logits", 8, 20, 0.99, 0.1, 5, 1, 0.95), worst);
        Assert.Same(map, FidelityEvaluator.Worst([map]));
    }

    [Theory]
    [InlineData(null, 2, 1)]    // (N, C): class scores on axis 1
    [InlineData(null, 4, null)] // a map: none unless named
    [InlineData(-1, 3, -1)]     // (N, T, C) with the axis named
    [InlineData(-1, 2, -1)]
    [InlineData(2, 2, null)]    // an output without that axis is compared without arg-max
    public void The_class_axis_applies_to_every_output_that_has_it(int? requested, long rank, int? expected) =>
        Assert.Equal(expected, FidelityEvaluator.ClassAxisOf(requested, rank));

    [Fact]
    public void The_fidelity_budget_keeps_the_fewest_layers_that_reach_the_target()
    {
        // A made-up model: layer "b" costs 20 dB, "a" 1 dB; the target 25 dB is met with "b" alone in FP32.
        var ranking = new[] { Layer("a"), Layer("b"), Layer("c") };
        OutputFidelity Measured(IReadOnlyList<string> floatLayers) =>
            new("y", 8, 10 + (floatLayers.Contains("b") ? 20 : 0) + (floatLayers.Contains("a") ? 1 : 0), 1, 0, 0);

        var outcome = FidelityBudgetSearch.Search(ranking, Measured, minSqnrDb: 25, minAgreement: null, validationImages: 8);

        Assert.True(outcome.WithinBudget);
        Assert.Equal(["b"], outcome.FloatLayers);
        Assert.Equal(30, outcome.Delivered.SqnrDb);
        Assert.Equal(10, outcome.Int8.SqnrDb);
        Assert.Contains("fidelity target SQNR >= 25 dB on 8 validation images of the training split: met with 1 layer(s) (b)", outcome.Describe());
        Assert.Equal(outcome.Delivered, FidelityBudgetOutcome.FromJson(outcome.ToJson()).Delivered);
    }

    private static LayerSensitivity Layer(string name) => new(name, "conv2d", 10, 1, 0, 1, 0.1, 0, null);
}

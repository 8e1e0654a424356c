using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Observers;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Tests.References;

/// <summary>
/// <see cref="EntropyObserver"/> against an independent numpy implementation of TensorRT's entropy calibration
/// (<c>scripts/make_entropy_references.py</c>) on the same float32 values, observed in one batch unless a test says otherwise.
/// </summary>
public class EntropyReferenceTests
{
    private static readonly EntropyReferences References = EntropyReferences.FromTestData;

    public static TheoryData<string> Cases => new(References.Cases.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Threshold_is_within_one_bin_of_the_reference(string name)
    {
        var reference = References.Cases.Single(c => c.Name == name);
        using var observer = Observed(reference);

        var threshold = observer.SelectThreshold();

        var bin = reference.AbsMax / References.Bins;
        Assert.True(Math.Abs(threshold - reference.Threshold) <= bin * 1.0001,
            $"{name}: threshold {threshold:G6} ({threshold / bin:F1} bins), reference {reference.Threshold:G6} (bin {reference.Bin})");
    }

    /// <summary>
    /// Four batches in the file's (random) order: the |x| histogram is re-binned whenever max |x| grows, which perturbs
    /// it slightly; where the divergence has near-equal minima the threshold may move to another one, never to a
    /// candidate more than 1 % (the reference's near-optimal margin) worse on the one-batch histogram.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Batches_that_widen_the_range_give_a_near_optimal_threshold(string name)
    {
        var reference = References.Cases.Single(c => c.Name == name);
        using var values = References.Values(reference);
        using var observer = new EntropyObserver(Spec(reference));
        foreach (var batch in values.chunk(4))
        {
            using (batch)
            {
                observer.Observe(batch);
            }
        }

        var chosenBin = observer.SelectThreshold() / (reference.AbsMax / References.Bins);

        Assert.True(reference.NearOptimalBins.Any(b => Math.Abs(chosenBin - b) <= 1.0001),
            $"{name}: bin {chosenBin:F1}, near-optimal bins of the reference {string.Join(", ", reference.NearOptimalBins)}");
    }

    [Fact]
    public void The_count_of_exact_zeros_does_not_move_the_threshold()
    {
        var reference = References.Cases.Single(c => c.Name == "relu");
        using var values = References.Values(reference);
        using var moreZeros = cat([values, zeros(values.numel() * 3)]);
        using var observer = new EntropyObserver(X86InductorQuantizer.ActivationSpec());
        using var zeroHeavy = new EntropyObserver(X86InductorQuantizer.ActivationSpec());
        observer.Observe(values);
        zeroHeavy.Observe(moreZeros);

        Assert.Equal(observer.SelectThreshold(), zeroHeavy.SelectThreshold());
    }

    [Fact]
    public void Reset_forgets_the_histogram_of_magnitudes_too()
    {
        var relu = References.Cases.Single(c => c.Name == "relu");
        var heavy = References.Cases.Single(c => c.Name == "signed_heavy_tails");
        using var fresh = Observed(relu);
        using var reused = Observed(heavy);
        using var values = References.Values(relu);
        reused.ResetMinMaxVals();
        reused.Observe(values);

        Assert.Equal(fresh.SelectThreshold(), reused.SelectThreshold());
    }

    /// <summary>
    /// The departure from TensorRT (ADR-014): signed data is searched with 128 levels on |x|, then quantized as uint8
    /// affine over [max(min, -T), min(max, T)], not as int8 over [-T, T]; here the short negative tail is kept whole.
    /// </summary>
    [Fact]
    public void Signed_data_is_quantized_uint8_affine_over_the_range_the_threshold_clips()
    {
        var reference = References.Cases.Single(c => c.Name == "signed_mostly_positive");
        Assert.True(reference.Threshold > -reference.Min, "the threshold should not reach this case's negative tail");
        using var observer = Observed(reference);

        var threshold = observer.SelectThreshold();
        var (scale, zeroPoint) = observer.CalculateQParams();
        using (scale)
        using (zeroPoint)
        {
            var (lo, hi) = (Math.Max(reference.Min, -threshold), Math.Min(reference.Max, threshold));
            var expectedScale = (hi - lo) / 255;
            Assert.Equal(expectedScale, scale.item<float>(), expectedScale * 1e-6);
            Assert.Equal((long)Math.Round(-lo / expectedScale), zeroPoint.item<long>());
            Assert.True(expectedScale < threshold / 127.5 * 0.6, $"uint8 step {expectedScale:G4} over [{lo:G4}, {hi:G4}] against symmetric int8 {threshold / 127.5:G4}");
        }
    }

    private static EntropyObserver Observed(EntropyReference reference)
    {
        var observer = new EntropyObserver(Spec(reference));
        using var values = References.Values(reference);
        observer.Observe(values);
        return observer;
    }

    private static QuantizationSpec Spec(EntropyReference reference) => reference.Spec switch
    {
        "uint8_affine" => X86InductorQuantizer.ActivationSpec(),
        "uint8_symmetric" => X86InductorQuantizer.ActivationSpec(symmetric: true),
        _ => throw new ArgumentException($"No spec named {reference.Spec} in the entropy references.", nameof(reference)),
    };
}

using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Tests.Pipeline;

public class CandidateSelectionTests
{
    [Fact]
    public void Overlapping_timings_are_not_faster_beyond_the_spread_even_with_a_lower_median()
    {
        var reference = Timings(10.0, 10.4, 10.8, 11.2, 30.0);
        var candidate = Timings(9.8, 10.2, 10.6, 11.0, 11.4);

        Assert.True(candidate.MedianMs < reference.MedianMs);
        Assert.False(CandidateSelection.IsFasterBeyondSpread(candidate, reference));
    }

    [Fact]
    public void Separated_timings_are_faster_beyond_the_spread_despite_an_outlier()
    {
        var reference = Timings(10.0, 10.2, 10.4, 10.6, 10.8);
        var candidate = Timings(8.0, 8.2, 8.4, 8.6, 40.0);

        Assert.True(candidate.MeanMs > reference.MeanMs);
        Assert.True(CandidateSelection.IsFasterBeyondSpread(candidate, reference));
    }

    [Fact]
    public void Quartiles_interpolate_as_numpy_does()
    {
        var latency = Timings(4, 1, 3, 2);

        Assert.Equal(2.5, latency.MedianMs, 12);
        Assert.Equal(1.75, latency.LowerQuartileMs, 12);
        Assert.Equal(3.25, latency.UpperQuartileMs, 12);
    }

    [Fact]
    public void A_loss_exactly_at_the_tolerance_keeps_the_accuracy_and_a_gain_always_does()
    {
        // 1041/2000 vs 1043/2000: 0.1 points lost, which binary floating point makes 0.10000000000000009.
        Assert.True(CandidateSelection.KeepsAccuracy(1041 / 2000.0, 1043 / 2000.0));
        Assert.False(CandidateSelection.KeepsAccuracy(1040 / 2000.0, 1043 / 2000.0));
        Assert.True(CandidateSelection.KeepsAccuracy(1060 / 2000.0, 1043 / 2000.0));
    }

    [Fact]
    public void Faster_in_every_run_needs_the_slowest_candidate_run_below_the_fastest_reference_run()
    {
        Assert.True(CandidateSelection.IsFasterInEveryRun(Timings(1, 2, 2.9), Timings(3, 5, 4)));
        Assert.False(CandidateSelection.IsFasterInEveryRun(Timings(1, 2, 3), Timings(3, 5, 4)));
        Assert.False(CandidateSelection.IsFasterInEveryRun(Timings(1, 1, 1, 6), Timings(3, 5, 4, 5)));
    }

    private static LatencyResult Timings(params double[] ms) => new(128, ms);
}

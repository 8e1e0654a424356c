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

    [Fact]
    public void The_sign_test_tail_counts_the_coin_flip_orders_with_at_least_that_many_wins()
    {
        Assert.Equal(1.0, CandidateSelection.SignTestTail(20, 0), 12);
        Assert.Equal(1 / 1024.0, CandidateSelection.SignTestTail(10, 10), 15);
        // C(20,18) + C(20,19) + C(20,20) = 190 + 20 + 1
        Assert.Equal(211 / 1048576.0, CandidateSelection.SignTestTail(20, 18), 15);
        Assert.Equal(1351 / 1048576.0, CandidateSelection.SignTestTail(20, 17), 15);
    }

    [Fact]
    public void A_form_faster_in_every_round_is_faster_round_by_round_though_the_load_made_the_quartiles_overlap()
    {
        // The load alternates between rounds; the candidate is 1 ms faster in each.
        var reference = Timings([.. Enumerable.Range(0, 20).Select(r => r % 2 == 0 ? 11.0 : 21.0)]);
        var candidate = Timings([.. Enumerable.Range(0, 20).Select(r => r % 2 == 0 ? 10.0 : 20.0)]);

        Assert.False(CandidateSelection.IsFasterBeyondSpread(candidate, reference));
        Assert.True(CandidateSelection.IsFasterInMostRounds(candidate, reference));
        Assert.Equal(20, CandidateSelection.RoundsWon(candidate, reference));
    }

    [Fact]
    public void Round_by_round_needs_18_of_20_rounds_and_cannot_decide_in_fewer_than_10()
    {
        Assert.True(CandidateSelection.IsFasterInMostRounds(Timings(Won(20, 18)), Reference(20)));
        Assert.False(CandidateSelection.IsFasterInMostRounds(Timings(Won(20, 17)), Reference(20)));
        Assert.False(CandidateSelection.IsFasterInMostRounds(Timings(Won(9, 9)), Reference(9)));
        Assert.True(CandidateSelection.IsFasterInMostRounds(Timings(Won(10, 10)), Reference(10)));
        // A candidate settled after 5 rounds is compared on those 5 only.
        Assert.Equal(5, CandidateSelection.SharedRounds(Timings(Won(5, 5)), Reference(20)));
        Assert.False(CandidateSelection.IsFasterInMostRounds(Timings(Won(5, 5)), Reference(20)));
    }

    [Fact]
    public void A_candidate_cannot_win_once_it_lost_too_many_rounds_unless_its_quartiles_are_already_apart()
    {
        // 20 rounds need 18 wins: after 7 rounds with 3 lost, winning the 13 left gives 17.
        var reference = Timings(10, 10.1, 10.2, 10.3, 10.4, 10.5, 10.6);
        var lostThree = Timings(9.8, 9.9, 9.7, 9.6, 10.7, 10.8, 10.9);
        var lostTwo = Timings(9.8, 9.9, 9.7, 9.6, 9.5, 10.8, 10.9);
        Assert.True(CompileScreening.CannotWin(lostThree, reference, 20));
        Assert.False(CompileScreening.CannotWin(lostTwo, reference, 20));
        // 3 of 13 rounds lost, each against one of the reference's fastest runs: 0.5 ms upper quartile against 10 ms lower
        // quartile, so the quartile rule may still take it.
        var spreadReference = Timings([1, 2, 3, .. Enumerable.Repeat(10.0, 10)]);
        var apartButLostThree = Timings([1.5, 2.5, 3.5, .. Enumerable.Repeat(0.5, 10)]);
        Assert.Equal(10, CandidateSelection.RoundsWon(apartButLostThree, spreadReference));
        Assert.True(CandidateSelection.IsFasterBeyondSpread(apartButLostThree, spreadReference));
        Assert.False(CompileScreening.CannotWin(apartButLostThree, spreadReference, 20));
    }

    // Against a reference of 5 ms in every round, a form that takes 4 ms in its first `wins` rounds and 6 ms after.
    private static double[] Won(int rounds, int wins) => [.. Enumerable.Range(0, rounds).Select(r => r < wins ? 4.0 : 6.0)];

    private static LatencyResult Reference(int rounds) => Timings([.. Enumerable.Repeat(5.0, rounds)]);

    private static LatencyResult Timings(params double[] ms) => new(128, ms);
}

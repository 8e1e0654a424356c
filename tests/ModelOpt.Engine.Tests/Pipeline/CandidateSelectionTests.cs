using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Tests.Pipeline;

public class CandidateSelectionTests
{
    [Fact]
    public void Fastest_candidate_within_tolerance_is_chosen_and_an_inaccurate_faster_one_is_rejected()
    {
        var broken = Candidate("broken-fast", accuracy: 0.80, latencyMs: 10);
        var slow = Candidate("torchscript-int8", accuracy: 0.9051, latencyMs: 100);
        var fast = Candidate("onnxruntime-qdq", accuracy: 0.9045, latencyMs: 90);

        var result = CandidateSelection.Select([broken, slow, fast], referenceAccuracy: 0.9050);

        Assert.Equal("onnxruntime-qdq", Assert.Single(result, c => c.Metrics.Selected).Metrics.Backend);
        Assert.StartsWith("rejected", result[0].Metrics.Note);
        Assert.StartsWith("slower", result[1].Metrics.Note);
    }

    [Fact]
    public void A_candidate_exactly_at_the_tolerance_is_kept()
    {
        // 1043/2000 vs 1041/2000: 0.1 points, which binary floating point makes 0.10000000000000009.
        var result = CandidateSelection.Select([Candidate("onnxruntime-qdq", 1043 / 2000.0, 10)], referenceAccuracy: 1041 / 2000.0);

        Assert.True(Assert.Single(result).Metrics.Selected);
    }

    [Fact]
    public void No_surviving_candidate_is_an_error()
    {
        Assert.Throws<InvalidOperationException>(() =>
            CandidateSelection.Select([Candidate("broken", 0.5, 1)], referenceAccuracy: 0.9));
    }

    private static CompileCandidate Candidate(string backend, double accuracy, double latencyMs) =>
        new(new StageMetrics(backend, "cpu", 1000, accuracy, 1000, latencyMs, 1, 128), new StageArtifact(backend, "/dev/null", "application/octet-stream"));
}

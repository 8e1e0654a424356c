namespace ModelOpt.Engine.Pipeline;

/// <summary>The notebook's measurements: top-1 on the test set (<see cref="TestSubset"/> null = all of it) and latency of one random batch.</summary>
public sealed record EvaluationOptions(int? TestSubset = null, int LatencyBatchSize = 128, int WarmupRuns = 5, int TimedRuns = 50);

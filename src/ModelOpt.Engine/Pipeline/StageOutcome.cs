namespace ModelOpt.Engine.Pipeline;

/// <summary>What one completed stage reports: its measured forms (none for train and calibrate) and its files.</summary>
public sealed record StageOutcome(PipelineStage Stage, IReadOnlyList<StageMetrics> Results, IReadOnlyList<StageArtifact> Artifacts, TimeSpan Duration);

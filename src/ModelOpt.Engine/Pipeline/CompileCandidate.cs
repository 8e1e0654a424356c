namespace ModelOpt.Engine.Pipeline;

/// <summary>One deployable form the compile stage measured, with the file that holds it.</summary>
public sealed record CompileCandidate(StageMetrics Metrics, StageArtifact Artifact);

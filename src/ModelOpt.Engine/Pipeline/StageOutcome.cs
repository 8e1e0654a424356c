using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Pipeline;

/// <summary>What one completed stage reports: its measured forms (none for train and calibrate) and its files.</summary>
/// <param name="Calibration">The images the calibrate stage used; null for other stages.</param>
public sealed record StageOutcome(
    PipelineStage Stage, IReadOnlyList<StageMetrics> Results, IReadOnlyList<StageArtifact> Artifacts, TimeSpan Duration, CalibrationSample? Calibration = null);

using ModelOpt.Engine.Data;
using ModelOpt.Engine.Quantization.Sensitivity;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// What one completed stage reports: its measured forms (none for train and calibrate), its files and, from calibrate,
/// the per-layer sensitivity report, most sensitive first, and the images it calibrated on.
/// </summary>
public sealed record StageOutcome(
    PipelineStage Stage,
    IReadOnlyList<StageMetrics> Results,
    IReadOnlyList<StageArtifact> Artifacts,
    TimeSpan Duration,
    IReadOnlyList<LayerSensitivity>? Layers = null,
    CalibrationSample? Calibration = null);

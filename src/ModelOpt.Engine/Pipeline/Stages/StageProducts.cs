using ModelOpt.Engine.Data;
using ModelOpt.Engine.Quantization.Sensitivity;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>What a stage produced; the pipeline adds the stage and its duration.</summary>
/// <param name="Calibration">The calibrate stage's image sample.</param>
internal sealed record StageProducts(
    IReadOnlyList<StageMetrics> Metrics, IReadOnlyList<StageArtifact> Artifacts, IReadOnlyList<LayerSensitivity>? Layers = null,
    CalibrationSample? Calibration = null);

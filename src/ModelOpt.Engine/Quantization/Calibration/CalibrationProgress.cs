namespace ModelOpt.Engine.Quantization.Calibration;

/// <summary>Calibration progress after a batch; <see cref="TotalBatches"/> is null when the batch source has no count.</summary>
public sealed record CalibrationProgress(int BatchesDone, int? TotalBatches, long Images);

using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>The manifest's record of the calibration images (the full index list is the calibrate stage's <c>calibration-sample.json</c>).</summary>
public sealed record Int8CalibrationRecord(string Sampling, int Seed, int Images, string DatasetSha256, string Sha256)
{
    public static Int8CalibrationRecord From(CalibrationSample sample) =>
        new(sample.Sampling.ToString().ToLowerInvariant(), sample.Seed, sample.Count, sample.DatasetSha256, sample.Sha256);
}

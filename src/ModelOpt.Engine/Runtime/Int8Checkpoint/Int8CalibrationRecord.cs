using ModelOpt.Engine.Data;
using ModelOpt.Engine.Quantization.Calibration;

namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>The manifest's record of the calibration images (the full index list is the calibrate stage's <c>calibration-sample.json</c>).</summary>
/// <param name="Classes">The dataset's classes (0 without labels).</param>
/// <param name="ClassesCovered">How many of them the sample holds: fewer means activation ranges seen on part of the data only.</param>
/// <param name="Spread">
/// How much another sample moved int8 top-1 on the benchmark models (classification jobs), or, when the job asked
/// (<c>calibrationSpreadSeeds</c>), how much it moved the job's own model (<see cref="CalibrationSpread.Measured"/>, any task).
/// </param>
public sealed record Int8CalibrationRecord(
    string Sampling, int Seed, int Images, string DatasetSha256, string Sha256, int Classes = 0, int ClassesCovered = 0, CalibrationSpread? Spread = null)
{
    public static Int8CalibrationRecord From(CalibrationSample sample) =>
        new(sample.Sampling.ToString().ToLowerInvariant(), sample.Seed, sample.Count, sample.DatasetSha256, sample.Sha256, sample.Classes, sample.ClassesCovered);
}

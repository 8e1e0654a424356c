namespace ModelOpt.Engine.Data;

/// <summary>
/// The training images on which a job's decisions are made (the accuracy budget, the <c>auto</c> observer, the per-layer
/// accuracy gains), so that the test set is only scored (ADR-009): a seeded stratified draw from the training split (seeded
/// random where the set has no labels),
/// outside the calibration sample while enough images are left (<see cref="OverlapsCalibration"/> says when not).
/// <see cref="Sha256"/> names the images as <see cref="CalibrationSample.Hash"/> does.
/// </summary>
public sealed record ValidationSplit(int Seed, long[] Indices, string DatasetSha256, string Sha256, bool OverlapsCalibration)
{
    private const int StreamSalt = 0x5A11DA7E;

    public int Count => Indices.Length;

    /// <param name="labelled">Whether the set has class labels; without them the draw is seeded random and reads no label.</param>
    public static ValidationSplit Draw(ImageDataset train, int count, int seed, CalibrationSample calibration, bool labelled = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var calibrated = calibration.Indices.ToHashSet();
        var outside = Enumerable.Range(0, train.Count).Select(i => (long)i).Where(i => !calibrated.Contains(i)).ToArray();
        // A training set no larger than the calibration sample (small uploads, tests) has nothing outside it to hold out.
        var overlaps = outside.Length == 0;
        var pool = overlaps ? Enumerable.Range(0, train.Count).Select(i => (long)i) : outside;
        // A stream of its own (the same seed drew the calibration sample), reproducible across processes.
        var random = new Random(seed ^ StreamSalt);
        long[] indices;
        if (labelled)
        {
            indices = CalibrationSample.Stratified(train.Labels.data<long>().ToArray(), train.Classes, pool, count, random);
        }
        else
        {
            var shuffled = pool.ToArray();
            random.Shuffle(shuffled);
            indices = shuffled[..Math.Min(count, shuffled.Length)];
        }
        Array.Sort(indices);
        return new ValidationSplit(seed, indices, calibration.DatasetSha256, CalibrationSample.Hash(calibration.DatasetSha256, indices), overlaps);
    }

    /// <summary>How the split is named in the job's notes.</summary>
    public string Describe() =>
        $"{Count} validation images (training split, seed {Seed}{(OverlapsCalibration ? ", overlapping the calibration sample" : "")})";
}

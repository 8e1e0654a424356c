using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Tests.Data;

/// <summary>A generic job on a set without labels: the calibration and validation draws read none and say what they did.</summary>
public class UnlabelledDrawTests
{
    [Fact]
    public void Stratified_calibration_without_labels_is_the_seeded_random_draw_and_is_recorded_as_such()
    {
        using var splits = SyntheticDataset.Create(trainCount: 300, testCount: 2);

        var unlabelled = CalibrationSample.Draw(splits.Train, 64, CalibrationSampling.Stratified, seed: 5, "sha", labelled: false);
        var random = CalibrationSample.Draw(splits.Train, 64, CalibrationSampling.Random, seed: 5, "sha");

        Assert.Equal(CalibrationSampling.Random, unlabelled.Sampling);
        Assert.Equal(random.Indices, unlabelled.Indices);
        Assert.Equal((0, 0), (unlabelled.Classes, unlabelled.ClassesCovered));
        Assert.Null(unlabelled.Warning);
    }

    [Fact]
    public void The_validation_split_without_labels_is_a_seeded_draw_outside_the_calibration_sample()
    {
        using var splits = SyntheticDataset.Create(trainCount: 300, testCount: 2);
        var calibration = CalibrationSample.Draw(splits.Train, 64, CalibrationSampling.Random, seed: 5, "sha", labelled: false);

        var split = ValidationSplit.Draw(splits.Train, 100, seed: 5, calibration, labelled: false);
        var again = ValidationSplit.Draw(splits.Train, 100, seed: 5, calibration, labelled: false);

        Assert.Equal(100, split.Count);
        Assert.Equal(split.Indices, again.Indices);
        Assert.Empty(split.Indices.Intersect(calibration.Indices));
        Assert.False(split.OverlapsCalibration);
    }
}

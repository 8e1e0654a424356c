namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>What an accepted dataset file holds, as checked at upload.</summary>
/// <param name="ClassNames">Class names by label; empty for an unlabeled set (images without class folders or y_* arrays).</param>
/// <param name="TestCount">Images of the test split; 0 when the file is one set that each job splits.</param>
/// <param name="Height">Height shared by every image, or null when sizes vary.</param>
/// <param name="Width">Width shared by every image, or null when sizes vary.</param>
public sealed record DatasetFileDescription(
    DatasetFileFormat Format,
    int Channels,
    IReadOnlyList<string> ClassNames,
    int TrainCount,
    int TestCount,
    int? Height,
    int? Width)
{
    public int Classes => ClassNames.Count;

    /// <summary>Whether the images have class labels: a labelled set has at least two classes, an unlabeled one none.</summary>
    public bool IsLabeled => ClassNames.Count > 0;

    /// <summary>Whether the file is one set of images that a job splits into train and test by a seeded fraction.</summary>
    public bool IsSingleSet => TestCount == 0;
}

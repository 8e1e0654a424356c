namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>An uploaded dataset as a job opens it: the stored file and what its upload check established.</summary>
/// <param name="Path">The file on the worker's disk.</param>
/// <param name="FileName">The user's file name, the only name error messages use.</param>
/// <param name="Channels">1 when every pixel of every image is grey (R = G = B), else 3.</param>
/// <param name="ClassNames">Class names by label; empty for an unlabeled set.</param>
/// <param name="ImageSize">Height and width shared by every image, or null when sizes vary.</param>
/// <param name="Sha256">The file's SHA-256 (lowercase hex): the dataset's identity in calibration-sample hashes.</param>
/// <param name="Limits">The bounds the file was accepted under; null for the defaults.</param>
public sealed record UploadedDatasetFile(
    string Path,
    string FileName,
    DatasetFileFormat Format,
    int Channels,
    IReadOnlyList<string> ClassNames,
    (int Height, int Width)? ImageSize,
    string Sha256,
    DatasetFileLimits? Limits = null);

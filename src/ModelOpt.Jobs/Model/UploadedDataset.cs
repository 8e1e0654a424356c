using ModelOpt.Engine.Data.Uploaded;

namespace ModelOpt.Jobs.Model;

/// <summary>A dataset a user uploaded: the stored file and what its check at upload found in it.</summary>
public sealed class UploadedDataset : ITeamOwned
{
    public Guid Id { get; set; }
    public Guid TeamId { get; set; }

    /// <summary>The name jobs and lists show: the upload's <c>name</c> field, else the file name without its extension.</summary>
    public required string Name { get; set; }
    public required string FileName { get; set; }
    public DatasetFileFormat Format { get; set; }
    public long SizeBytes { get; set; }
    public required string Sha256 { get; set; }
    public required string RelativePath { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>1 when every pixel is grey, else 3.</summary>
    public int Channels { get; set; }

    /// <summary>
    /// Whether the images have class labels. False for images without class folders or y_* arrays: such a set serves
    /// generic jobs (compared with the FP32 model), never training or top-1, and its <see cref="ClassNames"/> are empty.
    /// </summary>
    public bool Labeled { get; set; } = true;

    /// <summary>Class names by label; empty for an unlabeled set.</summary>
    public List<string> ClassNames { get; set; } = [];
    public int TrainImages { get; set; }

    /// <summary>0 when the file is one set that each job splits by its own seeded fraction.</summary>
    public int TestImages { get; set; }
    public int? ImageHeight { get; set; }
    public int? ImageWidth { get; set; }

    /// <summary>"team:{team id}:{key}" of the upload's Idempotency-Key header; a retry with it gets this dataset back.</summary>
    public string? IdempotencyKey { get; set; }

    public UploadedDatasetFile ToEngine(string path, DatasetFileLimits limits) =>
        new(path, FileName, Format, Channels, ClassNames,
            ImageHeight is { } height && ImageWidth is { } width ? (height, width) : null, Sha256, limits);
}

namespace ModelOpt.Engine.Data;

/// <summary>A dataset the catalogue knows: its shape, where its files live by default and how to open them.</summary>
/// <param name="DefaultPath">Folder used when the caller gives none; null when the user must always give one (CIFAR-10) or none is needed (synthetic).</param>
/// <param name="RequiredFiles">File names that must all be present in the folder; empty for generated data.</param>
public sealed record DatasetInfo(
    string Name,
    string Description,
    int Channels,
    int Classes,
    string? DefaultPath,
    IReadOnlyList<string> RequiredFiles,
    Func<string?, DatasetSplits> Load)
{
    /// <summary>Class names by label, for lists and manifests.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    public int? TrainImages { get; init; }

    public int? TestImages { get; init; }

    /// <summary>Side of the square stored images.</summary>
    public int? ImageSide { get; init; }

    /// <summary>Whether every required file exists in <paramref name="path"/> (or the default folder when null).</summary>
    public bool IsAvailable(string? path = null)
    {
        if (RequiredFiles.Count == 0)
        {
            return true;
        }
        var folder = path ?? DefaultPath;
        return folder is not null && RequiredFiles.All(f => File.Exists(Path.Combine(folder, f)));
    }

    /// <summary>Loads both splits from <paramref name="path"/> (or the default folder); throws <see cref="DatasetException"/> on missing or malformed files.</summary>
    public DatasetSplits Open(string? path = null) => Load(path ?? DefaultPath);
}

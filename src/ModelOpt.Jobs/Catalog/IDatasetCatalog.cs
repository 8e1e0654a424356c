namespace ModelOpt.Jobs.Catalog;

public sealed record DatasetInfo(string Name, string Description, int InputChannels, int Classes);

/// <summary>The datasets the service offers and whether each one is present on this machine's disk.</summary>
public interface IDatasetCatalog
{
    IReadOnlyList<DatasetInfo> All { get; }

    DatasetInfo? Find(string name);

    /// <summary>The folder used when a job names no data path (configured, else the dataset's usual place).</summary>
    string? DefaultPath(string name);

    bool IsAvailable(string name, string? path);
}

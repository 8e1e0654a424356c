using ModelOpt.Engine.Data;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Catalog;

/// <summary>
/// The engine's <see cref="DatasetCatalog"/> (names, shapes, descriptions, default folders, required files) as this
/// deployment sees it: the only service-specific part is the folder configured per dataset in
/// <c>ModelOpt:Datasets:Paths</c>, which overrides the engine's default folder.
/// </summary>
public sealed class DatasetLocations(IOptions<DatasetOptions> options)
{
    public IReadOnlyList<DatasetInfo> All => DatasetCatalog.All;

    /// <summary>The engine's dataset of that name (case-insensitive), or null.</summary>
    public DatasetInfo? Find(string name) =>
        DatasetCatalog.All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The folder used when a job names no data path: configured, else the engine's default (null when there is none).</summary>
    public string? DefaultPath(DatasetInfo dataset) =>
        options.Value.Paths.TryGetValue(dataset.Name, out var configured) && !string.IsNullOrWhiteSpace(configured) ? configured : dataset.DefaultPath;

    /// <summary>
    /// Why a job may not read <paramref name="dataPath"/>, or null when it lies on or below one of
    /// <c>ModelOpt:Datasets:AllowedDataRoots</c>: a user names a dataset, not a folder of the server.
    /// </summary>
    public string? RefusedDataPath(string dataPath)
    {
        const string setting = $"{DatasetOptions.Section}:AllowedDataRoots";
        var roots = options.Value.AllowedDataRoots.Where(r => !string.IsNullOrWhiteSpace(r)).ToList();
        if (roots.Count == 0)
        {
            return $"dataPath is not accepted on this server ({setting} lists no folder): name a built-in dataset or upload one (POST /api/datasets).";
        }
        if (dataPath.Contains('\0') || !Path.IsPathFullyQualified(dataPath))
        {
            return "dataPath must be an absolute folder path.";
        }
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataPath));
        return roots.Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r)))
            .Any(root => full == root || full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            ? null
            : $"dataPath must lie in one of the folders {setting} lists.";
    }

    /// <summary>Whether the engine would find every file of the dataset in <paramref name="path"/> (or <see cref="DefaultPath"/>).</summary>
    public bool IsAvailable(DatasetInfo dataset, string? path = null) => dataset.IsAvailable(path ?? DefaultPath(dataset));
}

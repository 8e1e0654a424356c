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

    /// <summary>Whether the engine would find every file of the dataset in <paramref name="path"/> (or <see cref="DefaultPath"/>).</summary>
    public bool IsAvailable(DatasetInfo dataset, string? path = null) => dataset.IsAvailable(path ?? DefaultPath(dataset));
}

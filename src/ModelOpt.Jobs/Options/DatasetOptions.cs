namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Datasets</c>: where each dataset lives on the worker's disk when a job gives no data path.</summary>
public sealed class DatasetOptions
{
    public const string Section = "ModelOpt:Datasets";

    /// <summary>Dataset name → folder (e.g. <c>fashion-mnist</c> → <c>/usr/share/datasets/fashion-mnist</c>).</summary>
    public Dictionary<string, string> Paths { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Folders a job's <c>dataPath</c> may name, on or below them (default none: a job reads a built-in dataset from its
    /// configured folder or an uploaded one, and may not point the worker at any other folder of the server).
    /// </summary>
    public List<string> AllowedDataRoots { get; set; } = [];
}

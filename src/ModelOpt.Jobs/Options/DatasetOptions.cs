namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Datasets</c>: where each dataset lives on the worker's disk when a job gives no data path.</summary>
public sealed class DatasetOptions
{
    public const string Section = "ModelOpt:Datasets";

    /// <summary>Dataset name → folder (e.g. <c>fashion-mnist</c> → <c>/usr/share/datasets/fashion-mnist</c>).</summary>
    public Dictionary<string, string> Paths { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

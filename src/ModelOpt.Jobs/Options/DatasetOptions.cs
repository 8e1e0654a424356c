namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Datasets</c>: where each dataset lives on the worker's disk when a job gives no data path.</summary>
public sealed class DatasetOptions
{
    public const string Section = "ModelOpt:Datasets";

    [Setting("dataset name → folder used when a job gives no `dataPath`; names, shapes and required files come from the engine's catalogue", Default = "the engine's catalogue (fashion-mnist → `/usr/share/datasets/fashion-mnist`)", Essential = true)]
    public Dictionary<string, string> Paths { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    [Setting("folders a job's `dataPath` may name (on or below them); with none, `dataPath` is refused (400) and users name a built-in dataset or upload one", Essential = true)]
    public List<string> AllowedDataRoots { get; set; } = [];
}

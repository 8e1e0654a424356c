namespace ModelOpt.Engine.Checkpoints;

/// <summary>The file or upload is not a readable checkpoint: corrupt, truncated, or something else entirely.</summary>
public sealed class CheckpointFormatException(string source, string problem, Exception? inner = null)
    : Exception($"'{source}' is not a readable checkpoint: {problem}", inner)
{
    /// <summary>The file path or upload name the checkpoint came from.</summary>
    public string SourceName { get; } = source;

    /// <summary>What is wrong with it, without the source name.</summary>
    public string Problem { get; } = problem;
}

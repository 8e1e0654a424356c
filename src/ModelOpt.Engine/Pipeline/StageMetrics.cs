namespace ModelOpt.Engine.Pipeline;

/// <summary>One measured model form: what the notebook prints for it (size MB = SizeBytes / 1e6).</summary>
public sealed record StageMetrics(
    string Backend,
    string Device,
    long SizeBytes,
    double Accuracy,
    int ImagesScored,
    double LatencyMeanMs,
    double LatencyStdMs,
    int BatchSize,
    bool Selected = true,
    string? Note = null);

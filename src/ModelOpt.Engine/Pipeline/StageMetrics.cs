using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline;

/// <summary>One measured model form: what the notebook prints for it (size MB = SizeBytes / 1e6).</summary>
/// <param name="Accuracy">Top-1 against the labels; null for a generic job (no labels, or an output that is not class logits).</param>
/// <param name="Fidelity">Per graph output, against the FP32 model on the same images; null for the FP32 form itself and for
/// a classification job's forms.</param>
public sealed record StageMetrics(
    string Backend,
    string Device,
    long SizeBytes,
    double? Accuracy,
    int ImagesScored,
    double LatencyMeanMs,
    double LatencyStdMs,
    int BatchSize,
    bool Selected = true,
    string? Note = null,
    IReadOnlyList<OutputFidelity>? Fidelity = null);

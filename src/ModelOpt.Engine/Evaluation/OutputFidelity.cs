namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// How faithfully a model form reproduces the FP32 model on one output, over the same evaluation images: what a job
/// reports instead of (or beside) top-1 accuracy when the output is not class logits with labels.
/// </summary>
/// <param name="Output">The graph output's name.</param>
/// <param name="Images">Evaluation images compared.</param>
/// <param name="SqnrDb">10·log10(Σ fp32² / Σ (form − fp32)²) over every element; +∞ when the outputs are identical.</param>
/// <param name="CosineSimilarity">Σ fp32·form / (‖fp32‖·‖form‖) over every element of the output, flattened.</param>
/// <param name="MeanAbsError">Mean of |form − fp32| over every element.</param>
/// <param name="MaxAbsError">Largest |form − fp32|.</param>
/// <param name="ClassAxis">The axis whose arg-max is compared, as given (negative counts from the end); null when there is none.</param>
/// <param name="ArgmaxAgreement">Share of positions (every index but the class axis) whose arg-max over the class axis equals FP32's; null without a class axis.</param>
public sealed record OutputFidelity(
    string Output,
    int Images,
    double SqnrDb,
    double CosineSimilarity,
    double MeanAbsError,
    double MaxAbsError,
    int? ClassAxis = null,
    double? ArgmaxAgreement = null);

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Engine.Pipeline;

/// <summary>Which of the model's outputs the job reads, and what it is for.</summary>
public sealed record OutputOptions : IValidatableObject
{
    [MaxLength(256), Description("The ONNX graph output the job measures, by name; null: a generic job measures every output, a " +
        "classification job the only one (a classifier with several outputs must name its logits; ADR-023). " +
        "An ONNX checkpoint only: a name the graph does not have is refused with the list of its outputs.")]
    public string? Name { get; init; }

    [Description("What the job judges the int8 forms by: classification (top-1 against the dataset's labels) or generic (fidelity to the " +
        "FP32 model on the same images: SQNR, cosine, mean and max absolute error, arg-max agreement on the class axis; no labels needed; " +
        "ADR-020). Null: classification when the model has one output, (N, classes) logits, and the dataset has labels; generic otherwise.")]
    public JobTask? Task { get; init; }

    [Range(-8, 8), Description("The output axis whose arg-max a generic job compares with FP32's (e.g. -1 for N x T x C sequence scores; " +
        "negative counts from the end, 0 is the batch axis and is refused); it applies to every output that has that axis. " +
        "Null: axis 1 of each 2-D output, none otherwise.")]
    public int? ClassAxis { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ClassAxis == 0)
        {
            yield return new ValidationResult("classAxis 0 is the batch axis: give the axis of the classes (1 for N x C, -1 for N x T x C).", [nameof(ClassAxis)]);
        }
        if (ClassAxis is not null && Task == JobTask.Classification)
        {
            yield return new ValidationResult("classAxis is a generic job's: a classification job compares top-1 on axis 1 against labels.", [nameof(ClassAxis)]);
        }
    }
}

using System.ComponentModel;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Api.Contracts;

// Plain comments, not XML docs: the API's XML file feeds Swashbuckle, and these would change the OpenAPI document (ADR-026).

// How faithfully one model form reproduces the FP32 model on one graph output, over the same evaluation images
// (definitions: docs/fidelity.md). JSON has no infinity, so a figure that is not a finite number is null: an SQNR of +∞
// (outputs identical to FP32's) is sqnrDb: null with identical: true.
// Output: The graph output's name.
// Images: Evaluation images compared.
// SqnrDb: 10·log10(Σ fp32² / Σ (form − fp32)²) over every element, in dB; null when not finite (see Identical).
// Identical: True when the form's output equals FP32's element for element (SQNR +∞).
// CosineSimilarity: Σ fp32·form / (‖fp32‖·‖form‖) over the flattened output; null when undefined (an all-zero output).
// MeanAbsError: Mean of |form − fp32| over every element; null when not finite.
// MaxAbsError: Largest |form − fp32|; null when not finite.
// ClassAxis: The axis whose arg-max is compared, as given (negative counts from the end); null when the output has none.
// ArgmaxAgreement: Share of positions (every index but the class axis) whose arg-max equals FP32's; null without a class axis.
public sealed record OutputFidelityDto(
    [property: Description("The graph output's name.")] string Output,
    [property: Description("Evaluation images compared.")] int Images,
    [property: Description("10·log10(Σ fp32² / Σ (form − fp32)²) over every element, in dB. Null when not finite: +∞ (identical outputs, then identical is true) "
                           + "or undefined (identical false).")] double? SqnrDb,
    [property: Description("True when the form's output equals FP32's element for element: the SQNR is +∞ (JSON has no infinity, so sqnrDb is null).")] bool Identical,
    [property: Description("Σ fp32·form / (‖fp32‖·‖form‖) over the flattened output; null when undefined (an all-zero output).")] double? CosineSimilarity,
    [property: Description("Mean of |form − fp32| over every element; null when not finite.")] double? MeanAbsError,
    [property: Description("Largest |form − fp32|; null when not finite.")] double? MaxAbsError,
    [property: Description("The axis whose arg-max is compared (negative counts from the end); null when the output has no class axis.")] int? ClassAxis,
    [property: Description("Share of positions (every index but the class axis) whose arg-max equals FP32's; null without a class axis.")] double? ArgmaxAgreement)
{
    public static OutputFidelityDto From(OutputFidelity f) =>
        new(f.Output, f.Images, Finite(f.SqnrDb), double.IsPositiveInfinity(f.SqnrDb), Finite(f.CosineSimilarity), Finite(f.MeanAbsError),
            Finite(f.MaxAbsError), f.ClassAxis, f.ArgmaxAgreement is { } agreement ? Finite(agreement) : null);

    public static IReadOnlyList<OutputFidelityDto>? From(IEnumerable<OutputFidelity>? fidelity) => fidelity?.Select(From).ToList();

    // The SQNR as a number again (a method, so that it is not serialized): +∞ for identical outputs, NaN where it was not finite otherwise.
    public double Sqnr() => SqnrDb ?? (Identical ? double.PositiveInfinity : double.NaN);

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

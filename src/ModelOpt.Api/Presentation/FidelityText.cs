using System.Globalization;

namespace ModelOpt.Api.Presentation;

/// <summary>
/// How the pages and the report write a form's fidelity to FP32 (a generic job's measure instead of top-1): one place for
/// the digits, the summary a one-line view shows, and the definitions the job page and the report print (docs/fidelity.md).
/// </summary>
public static class FidelityText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The metrics' definitions, as the job page and the report print them (the same as docs/fidelity.md).</summary>
    public static readonly IReadOnlyList<(string Term, string Definition)> Definitions =
    [
        ("SQNR", "10·log10(Σ fp32² / Σ (form − fp32)²) over every element of the output on the evaluation images, in dB; higher is closer "
                 + "(+10 dB = a tenth of the error energy). ∞ (identical) when the form's output equals FP32's element for element."),
        ("Cosine", "Σ fp32·form / (‖fp32‖·‖form‖) over the whole output, flattened; 1 = same direction."),
        ("Mean |Δ|", "Mean of |form − fp32| over every element, in the output's own units."),
        ("Max |Δ|", "Largest |form − fp32| over every element."),
        ("Arg-max agreement", "Where the output has a class axis: the share of positions (every index but the class axis) whose arg-max over "
                              + "the class axis equals FP32's; for N × C logits, the share of images whose top-1 class is FP32's."),
    ];

    /// <summary>An SQNR in dB; +∞ (identical outputs) in words; a dash where it is not a number.</summary>
    public static string Sqnr(double sqnrDb) =>
        double.IsPositiveInfinity(sqnrDb) ? "∞ (identical)" : double.IsFinite(sqnrDb) ? sqnrDb.ToString("0.00", Invariant) + " dB" : "—";

    public static string Sqnr(OutputFidelityDto output) => Sqnr(output.Sqnr());

    public static string Cosine(double? cosine) => cosine is { } value ? value.ToString("0.000000", Invariant) : "—";

    /// <summary>An absolute error in the output's own units, to four significant digits (small ones in exponent form).</summary>
    public static string AbsError(double? error) => error is { } value ? value.ToString("G4", Invariant) : "—";

    /// <summary>The output that is least faithful (lowest SQNR; one whose SQNR is undefined first): what a one-line view shows.</summary>
    public static OutputFidelityDto Worst(IReadOnlyList<OutputFidelityDto> outputs) => outputs.MinBy(o => o.Sqnr())!;

    /// <summary>
    /// A form's fidelity in one line, for the jobs list and /compare: SQNR and, where there is a class axis, the arg-max agreement,
    /// of the least faithful output when there are several (named, with their count).
    /// </summary>
    public static string Summary(IReadOnlyList<OutputFidelityDto> outputs)
    {
        var worst = Worst(outputs);
        var text = $"SQNR {Sqnr(worst)}" + (worst.ArgmaxAgreement is { } agreement ? $", arg-max agreement {Format.Percent(agreement)}" : "");
        return outputs.Count > 1 ? $"{text} (lowest of {outputs.Count} outputs: {worst.Output})" : text;
    }

    /// <summary>
    /// A job's result quality in a few words, for the jobs list and /compare: top-1 FP32 → delivered, or for a generic job (no
    /// accuracies) the delivered form's fidelity to FP32 (<see cref="Summary"/>).
    /// </summary>
    public static string Quality(JobHeadline h) =>
        h.DeliveredAccuracy is null && h.DeliveredFidelity is { Count: > 0 } fidelity
            ? Summary(fidelity)
            : $"{Format.Percent(h.Fp32Accuracy)} → {Format.Percent(h.DeliveredAccuracy)}";

    /// <summary>One output's figures in one phrase (the report's headline): SQNR, cosine and, where present, the arg-max agreement.</summary>
    public static string Phrase(OutputFidelityDto output) =>
        $"SQNR {Sqnr(output)}, cosine {Cosine(output.CosineSimilarity)}"
        + (output.ArgmaxAgreement is { } agreement ? $", arg-max agreement {Format.Percent(agreement)}" : "");

    /// <summary>The headline's fidelity sentence (the job page writes the same with its figures marked up).</summary>
    public static string Headline(JobHeadline h, IReadOnlyList<OutputFidelityDto> delivered)
    {
        var parts = delivered.Select(d =>
        {
            var int8 = h.Int8Fidelity?.FirstOrDefault(i => i.Output == d.Output);
            var name = delivered.Count > 1 ? $"output {d.Output}: " : "";
            return $"{name}delivered {Phrase(d)}" + (int8 is null ? "" : $" (converted int8 {Phrase(int8)})");
        });
        return $"Fidelity to FP32 on the same {delivered[0].Images} evaluation images: {string.Join("; ", parts)}.";
    }

    /// <summary>A form's figure for every output, for one cell of a Markdown table: the output's name first when there are several.</summary>
    public static string Cell(IReadOnlyList<OutputFidelityDto>? outputs, Func<OutputFidelityDto, string> figure) =>
        outputs is not { Count: > 0 } ? "—"
        : outputs.Count == 1 ? figure(outputs[0])
        : string.Join("; ", outputs.Select(o => $"{o.Output}: {figure(o)}"));
}

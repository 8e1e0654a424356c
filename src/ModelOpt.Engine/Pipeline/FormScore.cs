using System.Globalization;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// What the compile stage compares forms on: a classification job's top-1 on the test images, or a generic job's
/// fidelity to FP32 on its evaluation images (ADR-020), one per output, judged by the worst output
/// (<see cref="FidelityEvaluator.Worst"/>). Exactly one is set.
/// </summary>
internal sealed record FormScore(AccuracyResult? Accuracy, IReadOnlyList<OutputFidelity>? Fidelity)
{
    public static FormScore Of(AccuracyResult accuracy) => new(accuracy, null);

    public static FormScore Of(IReadOnlyList<OutputFidelity> fidelity) => new(null, fidelity);

    public int ImagesScored => Accuracy?.ImagesScored ?? Fidelity![0].Images;

    private OutputFidelity WorstOutput => FidelityEvaluator.Worst(Fidelity!);

    /// <summary>Whether this form loses at most what <see cref="CandidateSelection"/> allows against <paramref name="reference"/>.</summary>
    public bool Keeps(FormScore reference) => Accuracy is { } accuracy
        ? CandidateSelection.KeepsAccuracy(accuracy.Accuracy, reference.Accuracy!.Accuracy)
        : CandidateSelection.KeepsFidelity(WorstOutput, reference.WorstOutput);

    /// <summary>The score in words, for a row's note.</summary>
    public string Describe() => Accuracy is { } accuracy
        ? string.Create(CultureInfo.InvariantCulture, $"accuracy {accuracy.Accuracy:P2}")
        : string.Create(CultureInfo.InvariantCulture, $"SQNR {WorstOutput.SqnrDb:F2} dB")
          + (WorstOutput.ArgmaxAgreement is { } agreement ? string.Create(CultureInfo.InvariantCulture, $", arg-max agreement {agreement:P2}") : "")
          + (Fidelity!.Count > 1 ? " (worst output)" : "");
}

using System.Globalization;
using System.Text.Json.Serialization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Quantization.Calibration;

/// <summary>
/// How much the calibration sample alone moved int8 top-1: by default on the benchmark models, since a job measures it
/// for its own model only when asked (<c>calibrationSpreadSeeds</c>: a calibration, a build and a scoring per seed), so
/// its manifest does not imply its accuracy does not hang on which images calibrated it. No affordable default sample
/// brought mobilenet_v2-cifar under issue 24's 0.3 pt target (ADR-018).
/// </summary>
/// <param name="Note">What the figures are, in words.</param>
/// <param name="Measured">The spread measured for the job's own model when it asked (<c>calibrationSpreadSeeds</c>); the benchmarks are then empty.</param>
public sealed record CalibrationSpread(string Note, IReadOnlyList<CalibrationSpreadBenchmark> Benchmarks, MeasuredCalibrationSpread? Measured = null)
{
    public const string Source = "docs/BENCHMARKS.md, \"Calibration sample spread\" and \"Calibration sample size\" (issue 24)";

    /// <summary>
    /// The measured rows: one checkpoint each (ModelOpt, 1 epoch on 20 000 Fashion-MNIST images), 5 seeds of the
    /// stratified sample, the histogram observer unless named, scored on the first 2 000 test images (1 image = 0.05 pt).
    /// CalibrationSpreadDocsTests checks them against the tables of <see cref="Source"/>.
    /// </summary>
    public static readonly CalibrationSpread OnBenchmarkModels = new(
        "int8 top-1 spread over calibration seeds, not measured for this model; measured on the benchmark models: " + Source,
        [
            Stratified(ModelZoo.ResNet20, 256, 0.25),
            Stratified(ModelZoo.ResNet20, 1024, 0.25),
            Stratified(ModelZoo.ResNet20, 2048, 0.35),
            Stratified(ModelZoo.MobileNetV2Cifar, 256, 0.70),
            Stratified(ModelZoo.MobileNetV2Cifar, 1024, 0.45),
            Stratified(ModelZoo.MobileNetV2Cifar, 2048, 0.35),
            Stratified(ModelZoo.MobileNetV2Cifar, 256, 0.50, ActivationObserverNames.Percentile),
        ]);

    /// <summary>The job's own spread, in place of the benchmark figures.</summary>
    public static CalibrationSpread For(MeasuredCalibrationSpread measured) => new(measured.Describe() + ", measured for this model", [], measured);

    private static CalibrationSpreadBenchmark Stratified(string model, int images, double points, string observer = ActivationObserverNames.Histogram) =>
        new(model, CalibrationSampling.Stratified.ToString().ToLowerInvariant(), observer, images, Seeds: 5, TestImages: 2_000, SpreadPoints: points);
}

/// <summary>One benchmark: the largest minus the smallest int8 top-1 (points) over <paramref name="Seeds"/> calibration seeds.</summary>
public sealed record CalibrationSpreadBenchmark(string Model, string Sampling, string Observer, int Images, int Seeds, int TestImages, double SpreadPoints);

/// <summary>
/// The delivered all-int8 model rebuilt from calibration samples drawn with other seeds (same sampling, size and observer) and
/// scored on the images the job decides on: the first value is the job's own sample's.
/// </summary>
/// <param name="Metric">What each value is: <see cref="Top1"/> (percent) or <see cref="SqnrDb"/> (a generic job's worst output).</param>
/// <param name="ImagesDescription">Which images, in words (the validation split, or the first N test images).</param>
/// <param name="Spread">The largest minus the smallest value (points of top-1, or dB).</param>
public sealed record MeasuredCalibrationSpread(
    string Metric, int Images, string ImagesDescription, IReadOnlyList<CalibrationSeedScore> Values, double Spread)
{
    public const string Top1 = "top1_percent";
    public const string SqnrDb = "sqnr_db";
    private const int Decimals = 6;

    public static MeasuredCalibrationSpread From(string metric, int images, string imagesDescription, IReadOnlyList<CalibrationSeedScore> values)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(values.Count, 2);
        // Rounded past what N images or a dB figure resolve, so the manifest reads 79.6, not 79.60000000000001.
        var rounded = values.Select(v => v with { Value = Math.Round(v.Value, Decimals) }).ToList();
        // An SQNR of +inf (exact outputs) is left out of the spread: the others' range is what moved.
        var finite = rounded.Select(v => v.Value).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        return new(metric, images, imagesDescription, rounded, Math.Round(finite.Max() - finite.Min(), Decimals));
    }

    /// <summary>"calibration spread: 0.40 pt over 3 seeds on 1000 validation images (...)".</summary>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"calibration spread: {Spread:F2} {(Metric == Top1 ? "pt" : "dB")} over {Values.Count} seeds on {ImagesDescription}");
}

/// <summary>One calibration seed's score: top-1 in percent, or SQNR in dB (exact outputs: "Infinity").</summary>
public sealed record CalibrationSeedScore(int Seed, [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double Value);

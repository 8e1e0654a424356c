using System.Globalization;

namespace ModelOpt.Api.Presentation;

/// <summary>How the pages and the report write the API's numbers: one place, so every view shows the same digits.</summary>
public static class Format
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Percent(double fraction) => (fraction * 100).ToString("0.00", Invariant) + " %";

    /// <summary>A share that was not measured (a generic job's accuracy, the arg-max agreement of an output without a class axis): a dash.</summary>
    public static string Percent(double? fraction) => fraction is { } value ? Percent(value) : "—";

    /// <summary>A form's image count; a form that was not scored (0 images) shows a dash, as its missing accuracy does.</summary>
    public static string ImagesScored(int images) => images > 0 ? images.ToString(Invariant) : "—";

    public static string Milliseconds(double ms) => ms.ToString(ms < 100 ? "0.00" : "0.0", Invariant) + " ms";

    public static string LatencyWithSpread(double mean, double std) => $"{Milliseconds(mean)} ± {std.ToString("0.0", Invariant)}";

    public static string Megabytes(long bytes) => (bytes / 1e6).ToString("0.00", Invariant) + " MB";

    public static string Ratio(double ratio) => ratio.ToString("0.00", Invariant) + "×";

    public static string Time(DateTime? utc) => utc is { } t ? t.ToString("yyyy-MM-dd HH:mm:ss", Invariant) + " UTC" : "—";

    public static string Seconds(double? ms) => ms is { } value ? (value / 1000).ToString("0.0", Invariant) + " s" : "—";

    public static string Number(double value) => value.ToString("0.####", Invariant);

    /// <summary>Which test images two accuracies were measured on: the same ones, or (said plainly) different counts.</summary>
    public static string Images(int fp32Images, int deliveredImages) => fp32Images == deliveredImages
        ? $"on the same {deliveredImages} test images"
        : $"on different test images (FP32 on {fp32Images}, delivered on {deliveredImages})";

    /// <summary>The test images behind an FP32 → delivered accuracy pair: one count, or both when they differ.</summary>
    public static string ImageCounts(int fp32Images, int deliveredImages) =>
        fp32Images == deliveredImages ? $"{deliveredImages} images" : $"{fp32Images} vs {deliveredImages} images";

    /// <summary>
    /// A job id short enough for a table and still distinct: a UUIDv7 starts with its creation time, so jobs created the
    /// same minute share their first characters; the last 12 hex digits are random.
    /// </summary>
    public static string ShortId(Guid id) => "…" + id.ToString("N")[^12..];

    /// <summary>The label of one measured form of a job: its stage and backend.</summary>
    public static string FormLabel(StageDto stage, StageResultDto row) => $"{stage.Stage}: {row.Backend}";
}

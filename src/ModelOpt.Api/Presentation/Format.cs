using System.Globalization;

namespace ModelOpt.Api.Presentation;

/// <summary>How the pages and the report write the API's numbers: one place, so every view shows the same digits.</summary>
public static class Format
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Percent(double fraction) => (fraction * 100).ToString("0.00", Invariant) + " %";

    public static string Milliseconds(double ms) => ms.ToString(ms < 100 ? "0.00" : "0.0", Invariant) + " ms";

    public static string LatencyWithSpread(double mean, double std) => $"{Milliseconds(mean)} ± {std.ToString("0.0", Invariant)}";

    public static string Megabytes(long bytes) => (bytes / 1e6).ToString("0.00", Invariant) + " MB";

    public static string Ratio(double ratio) => ratio.ToString("0.00", Invariant) + "×";

    public static string Time(DateTime? utc) => utc is { } t ? t.ToString("yyyy-MM-dd HH:mm:ss", Invariant) + " UTC" : "—";

    public static string Seconds(double? ms) => ms is { } value ? (value / 1000).ToString("0.0", Invariant) + " s" : "—";

    public static string Number(double value) => value.ToString("0.####", Invariant);

    /// <summary>The label of one measured form of a job: its stage and backend.</summary>
    public static string FormLabel(StageDto stage, StageResultDto row) => $"{stage.Stage}: {row.Backend}";
}

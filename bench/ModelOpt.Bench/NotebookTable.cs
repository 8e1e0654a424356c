using System.Globalization;
using System.Text;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Bench;

/// <summary>The notebook's results as one table: each form's size, accuracy and latency, with speed-up and accuracy change against FP32.</summary>
internal static class NotebookTable
{
    private static readonly string[] Headers =
        ["Model form", "Backend", "Size (MB)", "Accuracy", "Δ acc (pt)", "Images", "Latency (ms)", "Batch", "Images/s", "Speed-up", "Note"];

    public static string Format(IEnumerable<(string Form, StageMetrics Metrics)> rows, StageMetrics fp32)
    {
        var cells = rows.Select(row =>
        {
            var r = row.Metrics;
            return new[]
            {
                row.Form,
                r.Backend,
                Invariant($"{r.SizeBytes / 1e6:F2}"),
                // A generic job has no accuracy (no labels): its fidelity table follows
                r.Accuracy is null ? "—" : Invariant($"{r.Accuracy * 100:F2} %"),
                r.Accuracy is null ? "—" : Invariant($"{(r.Accuracy - fp32.Accuracy) * 100:+0.00;-0.00;0.00}"),
                Invariant($"{r.ImagesScored:N0}"),
                Invariant($"{r.LatencyMeanMs:F2} ± {r.LatencyStdMs:F2}"),
                Invariant($"{r.BatchSize}"),
                Invariant($"{r.BatchSize * 1000 / r.LatencyMeanMs:F0}"),
                Invariant($"{fp32.LatencyMeanMs / r.LatencyMeanMs:F2}x"),
                r.Note ?? "",
            };
        }).ToList();
        var widths = Headers.Select((h, c) => cells.Select(row => row[c].Length).Append(h.Length).Max()).ToArray();

        var table = new StringBuilder();
        AppendRow(table, Headers, widths);
        table.AppendLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (var row in cells)
        {
            AppendRow(table, row, widths);
        }
        return table.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // Text columns read best left-aligned, numbers right-aligned.
    private static void AppendRow(StringBuilder table, IReadOnlyList<string> row, int[] widths) =>
        table.AppendLine(string.Join(" | ", row.Select((cell, c) => c is 0 or 1 or 10 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c])).ToArray()).TrimEnd());
}

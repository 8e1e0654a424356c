using System.Globalization;
using System.Text;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Bench;

/// <summary>Renders measured model forms as the notebook's size / accuracy / latency summary, one row per form.</summary>
internal static class NotebookTable
{
    private static readonly string[] Headers = ["Model form", "Size (MB)", "Accuracy", "Images scored", "Latency (ms)", "Batch", "Images/s"];

    public static string Format(IEnumerable<StageMetrics> rows)
    {
        var cells = rows.Select(r => new[]
        {
            $"{r.Backend} ({r.Device})",
            (r.SizeBytes / 1e6).ToString("F2", CultureInfo.InvariantCulture),
            (r.Accuracy * 100).ToString("F2", CultureInfo.InvariantCulture) + " %",
            r.ImagesScored.ToString("N0", CultureInfo.InvariantCulture),
            string.Create(CultureInfo.InvariantCulture, $"{r.LatencyMeanMs:F2} ± {r.LatencyStdMs:F2}"),
            r.BatchSize.ToString(CultureInfo.InvariantCulture),
            (r.BatchSize * 1000 / r.LatencyMeanMs).ToString("F0", CultureInfo.InvariantCulture),
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

    // The first column reads best left-aligned, numbers right-aligned.
    private static void AppendRow(StringBuilder table, IReadOnlyList<string> row, int[] widths) =>
        table.AppendLine(string.Join(" | ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
}

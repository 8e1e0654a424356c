using System.Globalization;

namespace ModelOpt.ServiceBench;

/// <summary>The printed summary: metric, value, target, met?</summary>
public sealed class ResultTable
{
    private readonly List<(string Metric, string Value, string Target, string Met)> _rows = [];

    public void Add(string metric, string value) => _rows.Add((metric, value, "", ""));

    public void Add(string metric, double value, string unit, double target, string format = "F1") =>
        _rows.Add((metric, $"{value.ToString(format, CultureInfo.InvariantCulture)} {unit}",
            $"< {target.ToString(CultureInfo.InvariantCulture)} {unit}", value < target ? "yes" : "NO"));

    public void Print(TextWriter output)
    {
        string[] header = ["metric", "value", "target", "met?"];
        var widths = header.Select((h, i) => Math.Max(h.Length, _rows.Select(r => Cell(r, i).Length).DefaultIfEmpty(0).Max())).ToArray();
        string Line(IReadOnlyList<string> cells) =>
            "| " + string.Join(" | ", cells.Select((c, i) => i == 1 ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))) + " |";
        output.WriteLine(Line(header));
        output.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in _rows)
        {
            output.WriteLine(Line([row.Metric, row.Value, row.Target, row.Met]));
        }
    }

    private static string Cell((string Metric, string Value, string Target, string Met) row, int index) =>
        index switch { 0 => row.Metric, 1 => row.Value, 2 => row.Target, _ => row.Met };
}

using System.Globalization;
using System.Text;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Bench;

/// <summary>A generic job's results: each form's fidelity to the FP32 outputs (docs/fidelity.md), one line per form and output.</summary>
internal static class FidelityTable
{
    public static string Format(IEnumerable<(string Form, StageMetrics Metrics)> rows)
    {
        var table = new StringBuilder();
        table.AppendLine("Model form   | Backend              | Output               | SQNR (dB) | Cosine     | Mean |Δ|   | Max |Δ|    | Arg-max agreement | Images");
        foreach (var (form, metrics) in rows)
        {
            foreach (var f in metrics.Fidelity ?? [])
            {
                var sqnr = double.IsPositiveInfinity(f.SqnrDb) ? "∞" : f.SqnrDb.ToString("F2", CultureInfo.InvariantCulture);
                var agreement = f.ArgmaxAgreement is { } a ? (a * 100).ToString("F2", CultureInfo.InvariantCulture) + " %" : "";
                table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"{form,-12} | {metrics.Backend,-20} | {f.Output,-20} | {sqnr,9} | {f.CosineSimilarity,10:F6} | {f.MeanAbsError,10:0.00e+0} | {f.MaxAbsError,10:0.00e+0} | {agreement,17} | {f.Images}"));
            }
        }
        return table.ToString();
    }
}

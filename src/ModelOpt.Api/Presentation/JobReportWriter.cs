using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Api.Presentation;

/// <summary>A job's results as a Markdown report a user can attach to a ticket: the same figures as the job page.</summary>
public static class JobReportWriter
{
    public static string Write(JobDto job)
    {
        var md = new StringBuilder();
        md.AppendLine($"# ModelOpt job {job.Id}");
        md.AppendLine();
        md.AppendLine($"- Status: **{job.Status}**");
        md.AppendLine($"- Model: {job.Model}, dataset: {job.Dataset}, device: {job.Device}");
        md.AppendLine($"- Source: {(job.TrainFirst ? "trained by the job" : job.CheckpointId is { } checkpoint ? $"checkpoint {checkpoint}" : "a checkpoint since deleted")}");
        md.AppendLine($"- Created {Format.Time(job.CreatedAt)}, finished {Format.Time(job.FinishedAt)}, {Format.Seconds(job.ElapsedMs)} of work");
        if (job.WorkerName is not null)
        {
            md.AppendLine($"- Worker: {job.WorkerName}");
        }
        if (job.Error is not null)
        {
            md.AppendLine($"- Error: {job.Error}");
        }
        if (job.Headline is { } h)
        {
            md.AppendLine();
            md.AppendLine(HeadlineText(h));
            if (SlowerThanFp32Text(h) is { } slower)
            {
                md.AppendLine();
                md.AppendLine($"**{slower}**");
            }
        }

        // As the job page: top-1 where a form has an accuracy, the fidelity to FP32 (one figure per output in a cell) where forms carry it.
        var forms = MeasuredForm.Of(job);
        var fidelity = forms.Any(f => f.Result.Fidelity is { Count: > 0 });
        var accuracy = forms.Any(f => f.Result.Accuracy is not null) || !fidelity;
        var agreement = forms.Any(f => f.Result.Fidelity?.Any(o => o.ArgmaxAgreement is not null) == true);
        string[] none = [];
        string[] agreementHeader = agreement ? ["arg-max agreement"] : none;
        string[] fidelityHeaders = fidelity ? ["output", "SQNR", "cosine", "mean abs error", "max abs error", .. agreementHeader] : none;
        string[] accuracyHeader = accuracy ? ["accuracy"] : none;
        Table(md, "Results", ["stage", "form", "device", "size", .. accuracyHeader, .. fidelityHeaders, "images", "latency (batch)", "", "note"],
            forms.Select(form =>
            {
                var r = form.Result;
                var outputs = r.Fidelity ?? [];
                string[] agreementCell = agreement ? [FidelityText.Cell(outputs, o => Format.Percent(o.ArgmaxAgreement))] : none;
                string[] fidelityCells = !fidelity ? none
                    : outputs.Count == 0 ? [form.Stage == PipelineStage.EvaluateFp32 ? "reference" : "—", .. fidelityHeaders.Skip(1).Select(_ => "—")]
                    :
                    [
                        string.Join(", ", outputs.Select(o => o.Output)), FidelityText.Cell(outputs, FidelityText.Sqnr),
                        FidelityText.Cell(outputs, o => FidelityText.Cosine(o.CosineSimilarity)), FidelityText.Cell(outputs, o => FidelityText.AbsError(o.MeanAbsError)),
                        FidelityText.Cell(outputs, o => FidelityText.AbsError(o.MaxAbsError)), .. agreementCell,
                    ];
                string[] accuracyCell = accuracy ? [Format.Percent(r.Accuracy)] : none;
                string[] row =
                [
                    form.Stage.ToString(), r.Backend, r.Device, Format.Megabytes(r.SizeBytes), .. accuracyCell, .. fidelityCells,
                    Format.ImagesScored(r.ImagesScored), $"{Format.LatencyWithSpread(r.LatencyMeanMs, r.LatencyStdMs)} ({r.BatchSize})", form.Mark, r.Note ?? "",
                ];
                return row;
            }));
        if (fidelity)
        {
            md.AppendLine();
            md.AppendLine("Fidelity to FP32, each form's outputs against the FP32 model's on the same evaluation images (docs/fidelity.md):");
            md.AppendLine();
            foreach (var (term, definition) in FidelityText.Definitions)
            {
                md.AppendLine($"- **{term}**: {definition}");
            }
        }
        Table(md, "Stages", ["stage", "state", "duration", "measured on"],
            job.Stages.Select(stage => new[] { stage.Stage.ToString(), stage.State.ToString(), Format.Seconds(stage.DurationMs), stage.CpuModel ?? "—" }));

        md.AppendLine();
        md.AppendLine("## Settings");
        md.AppendLine();
        md.AppendLine("```json");
        md.AppendLine(JsonSerializer.Serialize(job.Spec, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        md.AppendLine("```");

        Table(md, "Artifacts", ["file", "", "stage", "size", "SHA-256"],
            job.Artifacts.Select(a => new[] { a.Name, a.Delivered ? "delivered model" : "", a.Stage.ToString(), Format.Megabytes(a.SizeBytes), $"`{a.Sha256}`" }));
        return md.ToString();
    }

    /// <summary>
    /// The job page's headline as one sentence: both speed-ups, each with its baseline named, and the accuracies on their images
    /// or, for a generic job, the fidelity to FP32 of the delivered and converted forms.
    /// </summary>
    public static string HeadlineText(JobHeadline h) =>
        $"Delivered: {h.DeliveredBackend}{(h.DeliveredArtifact is { } file ? $" ({file})" : "")}. "
        + $"{Format.Ratio(h.SpeedUpOverFastestFp32)} the speed of the fastest FP32 form measured ({h.FastestFp32Backend}: "
        + $"{Format.Milliseconds(h.FastestFp32LatencyMs)} → {Format.Milliseconds(h.DeliveredLatencyMs)}), "
        + $"{Format.Ratio(h.SpeedUp)} the FP32 eager model's ({Format.Milliseconds(h.Fp32LatencyMs)} → {Format.Milliseconds(h.DeliveredLatencyMs)}). "
        + (h.DeliveredAccuracy is not null || h.DeliveredFidelity is not { Count: > 0 }
            ? $"Top-1 accuracy {Format.Images(h.Fp32ImagesScored, h.ImagesScored)}: FP32 {Format.Percent(h.Fp32Accuracy)} → delivered "
              + $"{Format.Percent(h.DeliveredAccuracy)} (converted int8 {Format.Percent(h.Int8Accuracy)}). "
            : "")
        + (h.DeliveredFidelity is { Count: > 0 } fidelity ? FidelityText.Headline(h, fidelity) + " " : "")
        + $"Size ratio {Format.Number(Math.Round(h.SizeRatio, 3))} of FP32.";

    /// <summary>
    /// When the delivered int8 form ran slower than an FP32 form on the worker (a model whose int8 layers are few, or small
    /// enough that quantizing their inputs costs more than it saves): what the user got instead, and what to deploy for speed.
    /// Null when the delivered form is the fastest.
    /// </summary>
    public static string? SlowerThanFp32Text(JobHeadline h) => h.SpeedUpOverFastestFp32 >= 1
        ? null
        : $"The delivered int8 model ran at {Format.Ratio(h.SpeedUpOverFastestFp32)} the speed of {h.FastestFp32Backend} on this worker: "
          + $"it is smaller ({Format.Number(Math.Round(h.SizeRatio, 3))} of FP32), not faster. Where speed matters more than size, "
          + (ModelForms.FileOf(h.FastestFp32Backend) is { } file ? $"deploy {file} ({h.FastestFp32Backend}) instead." : "keep the FP32 model.");

    private static void Table(StringBuilder md, string title, string[] headers, IEnumerable<string[]> rows)
    {
        md.AppendLine();
        md.AppendLine($"## {title}");
        md.AppendLine();
        md.AppendLine($"| {string.Join(" | ", headers)} |");
        md.AppendLine($"|{string.Concat(headers.Select(_ => "---|"))}");
        foreach (var row in rows)
        {
            md.AppendLine($"| {string.Join(" | ", row.Select(Cell))} |");
        }
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}

using System.Globalization;
using System.Text;
using System.Text.Json;

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
        }

        Table(md, "Results", ["stage", "form", "device", "size", "accuracy", "images", "latency (batch)", "", "note"],
            MeasuredForm.Of(job).Select(form =>
            {
                var r = form.Result;
                return new[]
                {
                    form.Stage.ToString(), r.Backend, r.Device, Format.Megabytes(r.SizeBytes), Format.Percent(r.Accuracy), r.ImagesScored.ToString(CultureInfo.InvariantCulture),
                    $"{Format.LatencyWithSpread(r.LatencyMeanMs, r.LatencyStdMs)} ({r.BatchSize})", form.Mark, r.Note ?? "",
                };
            }));
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

    /// <summary>The job page's headline as one sentence: both speed-ups, each with its baseline named, and the accuracies on their images.</summary>
    public static string HeadlineText(JobHeadline h) =>
        $"Delivered: {h.DeliveredBackend}{(h.DeliveredArtifact is { } file ? $" ({file})" : "")}. "
        + $"{Format.Ratio(h.SpeedUpOverFastestFp32)} the speed of the fastest FP32 form measured ({h.FastestFp32Backend}: "
        + $"{Format.Milliseconds(h.FastestFp32LatencyMs)} → {Format.Milliseconds(h.DeliveredLatencyMs)}), "
        + $"{Format.Ratio(h.SpeedUp)} the FP32 eager model's ({Format.Milliseconds(h.Fp32LatencyMs)} → {Format.Milliseconds(h.DeliveredLatencyMs)}). "
        + $"Top-1 accuracy {Format.Images(h.Fp32ImagesScored, h.ImagesScored)}: FP32 {Format.Percent(h.Fp32Accuracy)} → delivered "
        + $"{Format.Percent(h.DeliveredAccuracy)} (converted int8 {Format.Percent(h.Int8Accuracy)}). Size ratio {Format.Number(Math.Round(h.SizeRatio, 3))} of FP32.";

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

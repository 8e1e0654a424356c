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
        md.AppendLine($"- Source: {(job.TrainFirst ? "trained by the job" : $"checkpoint {job.CheckpointId}")}");
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
            md.AppendLine($"Accuracy FP32 → int8 {Format.Percent(h.Fp32Accuracy)} → {Format.Percent(h.Int8Accuracy)}. Delivered form "
                          + $"{h.DeliveredBackend} ({Format.Percent(h.DeliveredAccuracy)}): {Format.Ratio(h.SpeedUp)} the FP32 speed "
                          + $"({Format.Milliseconds(h.Fp32LatencyMs)} → {Format.Milliseconds(h.DeliveredLatencyMs)}), size ratio {Format.Number(Math.Round(h.SizeRatio, 3))}.");
        }

        md.AppendLine();
        md.AppendLine("## Results");
        md.AppendLine();
        md.AppendLine("| stage | form | device | size | accuracy | images | latency (batch) | | note |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var form in MeasuredForm.Of(job))
        {
            var r = form.Result;
            var mark = form.Rejected ? "rejected" : form.Stage == PipelineStage.Compile ? "selected" : "";
            md.AppendLine($"| {form.Stage} | {Cell(r.Backend)} | {Cell(r.Device)} | {Format.Megabytes(r.SizeBytes)} | {Format.Percent(r.Accuracy)} | {r.ImagesScored} | "
                          + $"{Format.LatencyWithSpread(r.LatencyMeanMs, r.LatencyStdMs)} ({r.BatchSize}) | {mark} | {Cell(r.Note ?? "")} |");
        }

        md.AppendLine();
        md.AppendLine("## Stages");
        md.AppendLine();
        md.AppendLine("| stage | state | duration |");
        md.AppendLine("|---|---|---|");
        foreach (var stage in job.Stages)
        {
            md.AppendLine($"| {stage.Stage} | {stage.State} | {Format.Seconds(stage.DurationMs)} |");
        }

        md.AppendLine();
        md.AppendLine("## Settings");
        md.AppendLine();
        md.AppendLine("```json");
        md.AppendLine(JsonSerializer.Serialize(job.Spec, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        md.AppendLine("```");

        md.AppendLine();
        md.AppendLine("## Artifacts");
        md.AppendLine();
        md.AppendLine("| file | stage | size | SHA-256 |");
        md.AppendLine("|---|---|---|---|");
        foreach (var a in job.Artifacts)
        {
            md.AppendLine($"| {Cell(a.Name)} | {a.Stage} | {Format.Megabytes(a.SizeBytes)} | `{a.Sha256}` |");
        }
        return md.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}

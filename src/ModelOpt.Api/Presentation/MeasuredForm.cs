using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Api.Presentation;

/// <summary>One measured form of a job's model (a row of the notebook's table), labelled by stage and backend.</summary>
public sealed record MeasuredForm(string Label, PipelineStage Stage, StageResultDto Result)
{
    public static IReadOnlyList<MeasuredForm> Of(JobDto job) =>
        job.Stages.SelectMany(stage => stage.Results.Select(row => new MeasuredForm(Format.FormLabel(stage, row), stage.Stage, row))).ToList();

    /// <summary>The FP32 eager row (the notebook's baseline); null until the FP32 model is measured.</summary>
    public static StageResultDto? Fp32(JobDto job) => Selected(job, PipelineStage.EvaluateFp32);

    /// <summary>The row of the form the job delivers, as its headline picks it: the compile stage's pick, else the converted model.</summary>
    public static StageResultDto? Delivered(JobDto job) => Selected(job, PipelineStage.Compile) ?? Selected(job, PipelineStage.Convert);

    private static StageResultDto? Selected(JobDto job, PipelineStage stage) =>
        job.Stages.Where(s => s.Stage == stage).SelectMany(s => s.Results).FirstOrDefault(r => r.Selected);

    /// <summary>The graph outputs whose fidelity to FP32 the job's forms carry, in the order first measured; empty for a classification job.</summary>
    public static IReadOnlyList<string> FidelityOutputs(JobDto job) =>
        job.Stages.SelectMany(s => s.Results).SelectMany(r => r.Fidelity ?? []).Select(o => o.Output).Distinct().ToList();

    /// <summary>
    /// What the job judged its forms by, as /compare shows it: top-1 against labels (a classification job), fidelity to FP32
    /// on named outputs (a generic job), both, or null before any form was measured.
    /// </summary>
    public static string? Measure(JobDto job)
    {
        var rows = job.Stages.SelectMany(s => s.Results).ToList();
        var outputs = FidelityOutputs(job);
        var parts = new List<string>();
        if (rows.Any(r => r.Accuracy is not null))
        {
            parts.Add("top-1");
        }
        if (outputs.Count > 0)
        {
            parts.Add($"fidelity to FP32 ({string.Join(", ", outputs)})");
        }
        return parts.Count == 0 ? null : string.Join(" + ", parts);
    }

    /// <summary>
    /// Whether <paramref name="job"/> judged its forms by another measure than <paramref name="reference"/> (top-1, or fidelity on other
    /// graph outputs): a top-1 accuracy and an SQNR are not one scale. Jobs with nothing measured yet are not flagged.
    /// </summary>
    public static bool MeasuredOtherwise(JobDto reference, JobDto job) =>
        Measure(job) is { } measure && Measure(reference) is { } first && measure != first;

    /// <summary>The label of one output of this form in a chart: the form's, with the output named when the job measured several.</summary>
    public string OutputLabel(OutputFidelityDto output, int outputs) => outputs > 1 ? $"{Label} · {output.Output}" : Label;

    /// <summary>A compile candidate that was measured but not kept; its note says why.</summary>
    public bool Rejected => Stage == PipelineStage.Compile && !Result.Selected;

    /// <summary>How the tables mark a compile candidate: "selected" or "rejected"; empty for the other stages' forms.</summary>
    public string Mark => Stage != PipelineStage.Compile ? "" : Rejected ? "rejected" : "selected";
}

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

    /// <summary>A compile candidate that was measured but not kept; its note says why.</summary>
    public bool Rejected => Stage == PipelineStage.Compile && !Result.Selected;

    /// <summary>How the tables mark a compile candidate: "selected" or "rejected"; empty for the other stages' forms.</summary>
    public string Mark => Stage != PipelineStage.Compile ? "" : Rejected ? "rejected" : "selected";
}

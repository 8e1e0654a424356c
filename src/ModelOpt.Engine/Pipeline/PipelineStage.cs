namespace ModelOpt.Engine.Pipeline;

/// <summary>The notebook's steps, in the order a job runs them.</summary>
public enum PipelineStage
{
    Train,
    EvaluateFp32,
    Calibrate,
    Convert,
    Compile,
}

namespace ModelOpt.Engine.Pipeline;

/// <summary>The notebook's steps, in the order a job runs them.</summary>
public enum PipelineStage
{
    Train,
    EvaluateFp32,
    Calibrate,

    /// <summary>Quantization-aware fine-tuning of the calibrated model; only when the job enables it.</summary>
    Qat,
    Convert,
    Compile,
}

namespace ModelOpt.Engine.Pipeline;

/// <summary>Progress inside a stage, <see cref="Fraction"/> in [0, 1].</summary>
public sealed record PipelineProgress(PipelineStage Stage, double Fraction, string Message);

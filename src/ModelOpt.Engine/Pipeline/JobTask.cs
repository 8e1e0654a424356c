namespace ModelOpt.Engine.Pipeline;

/// <summary>What a job judges its model forms by (ADR-020).</summary>
public enum JobTask
{
    /// <summary>Top-1 against the dataset's labels: the output is (N, classes) logits.</summary>
    Classification,

    /// <summary>Fidelity to the FP32 model's outputs on the same images (<see cref="Evaluation.OutputFidelity"/>); no labels needed.</summary>
    Generic,
}

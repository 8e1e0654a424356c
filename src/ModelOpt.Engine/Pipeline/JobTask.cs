using System.Text.Json.Serialization;

namespace ModelOpt.Engine.Pipeline;

/// <summary>What a job judges its model forms by (ADR-020).</summary>
/// <remarks>Lower-case on the wire and in stored job specs, as the job settings have always spelt them.</remarks>
public enum JobTask
{
    /// <summary>Top-1 against the dataset's labels: the output is (N, classes) logits.</summary>
    [JsonStringEnumMemberName("classification")]
    Classification,

    /// <summary>Fidelity to the FP32 model's outputs on the same images (<see cref="Evaluation.OutputFidelity"/>); no labels needed.</summary>
    [JsonStringEnumMemberName("generic")]
    Generic,
}

using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline;

/// <summary>The int8 safetensors checkpoint rebuilt into its graph, with the model it describes; disposing frees the graph.</summary>
internal sealed record Int8CheckpointInMemory(QuantizedGraph Quantized, Int8ModelDescriptor Descriptor) : IDisposable
{
    public void Dispose() => Quantized.Dispose();
}

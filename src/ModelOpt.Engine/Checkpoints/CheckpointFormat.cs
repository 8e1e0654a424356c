namespace ModelOpt.Engine.Checkpoints;

/// <summary>The on-disk layouts a state_dict can come in.</summary>
public enum CheckpointFormat
{
    /// <summary>PyTorch's <c>torch.save</c> zip archive (pickle plus raw storages), usually <c>.pth</c> or <c>.pt</c>.</summary>
    PyTorch,

    /// <summary>Hugging Face safetensors: 8-byte little-endian header length, JSON header, raw tensor bytes.</summary>
    Safetensors,

    /// <summary>TorchSharp's own <c>Module.save</c> binary layout (LEB128 counts, no magic number).</summary>
    TorchSharp,
}

namespace ModelOpt.Engine.Checkpoints;

/// <summary>The on-disk layouts an uploaded FP32 checkpoint can come in: three state_dict layouts, and ONNX.</summary>
public enum CheckpointFormat
{
    /// <summary>PyTorch's <c>torch.save</c> zip archive (pickle plus raw storages), usually <c>.pth</c> or <c>.pt</c>.</summary>
    PyTorch,

    /// <summary>Hugging Face safetensors: 8-byte little-endian header length, JSON header, raw tensor bytes.</summary>
    Safetensors,

    /// <summary>TorchSharp's own <c>Module.save</c> binary layout (LEB128 counts, no magic number).</summary>
    TorchSharp,

    /// <summary>
    /// An FP32 ONNX model as <c>torch.onnx.export</c> writes it: a whole model that carries its own architecture, read by
    /// <c>Import/Onnx</c>, never by <see cref="CheckpointReader"/>, which reads state_dicts.
    /// </summary>
    Onnx,
}

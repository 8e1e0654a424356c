namespace ModelOpt.Jobs.Model;

public enum CheckpointFormat
{
    /// <summary>PyTorch <c>torch.save</c> file (zip archive of a pickled state_dict).</summary>
    Pth,
    Safetensors,

    /// <summary>An FP32 ONNX model (<c>torch.onnx.export</c>): it carries its own architecture.</summary>
    Onnx,
}

/// <summary>An uploaded FP32 checkpoint.</summary>
public sealed class Checkpoint
{
    public Guid Id { get; set; }
    public required string FileName { get; set; }
    public CheckpointFormat Format { get; set; }

    /// <summary>The zoo model it was checked against at upload, if one was named; <c>onnx:&lt;file name&gt;</c> for an ONNX model.</summary>
    public string? Model { get; set; }
    public long SizeBytes { get; set; }
    public required string Sha256 { get; set; }
    public required string RelativePath { get; set; }
    public DateTime CreatedAt { get; set; }
}

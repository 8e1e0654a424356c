namespace ModelOpt.Jobs.Model;

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

    /// <summary>The upload's <c>Idempotency-Key</c>, scoped to its caller ("{caller}:{key}"); a retry with it gets this row back.</summary>
    public string? IdempotencyKey { get; set; }
}

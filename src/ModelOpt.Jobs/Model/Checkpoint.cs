namespace ModelOpt.Jobs.Model;

/// <summary>An uploaded FP32 checkpoint.</summary>
public sealed class Checkpoint : ITeamOwned
{
    public Guid Id { get; set; }
    public Guid TeamId { get; set; }
    public required string FileName { get; set; }
    public CheckpointFormat Format { get; set; }

    /// <summary>The zoo model it was checked against at upload, if one was named; <c>onnx:&lt;file name&gt;</c> for an ONNX model.</summary>
    public string? Model { get; set; }
    public long SizeBytes { get; set; }

    /// <summary>What the model takes and gives, read once at upload so a job submission need not open the file again:
    /// channels and classes when the reader can infer them, height and width only for an ONNX model (a zoo model takes any size).</summary>
    public int? InputChannels { get; set; }
    public int? InputHeight { get; set; }
    public int? InputWidth { get; set; }
    public int? NumClasses { get; set; }
    public required string Sha256 { get; set; }
    public required string RelativePath { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>The upload's <c>Idempotency-Key</c>, scoped to its team ("team:{team id}:{key}"); a retry with it gets this row back.</summary>
    public string? IdempotencyKey { get; set; }
}

using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Model;

/// <summary>A file a job produced, stored in the artifact store and offered for download under <see cref="Name"/>.</summary>
public sealed class JobArtifact
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public PipelineStage Stage { get; set; }
    public required string Name { get; set; }
    public required string ContentType { get; set; }

    /// <summary>Path relative to the artifact store root.</summary>
    public required string RelativePath { get; set; }
    public long SizeBytes { get; set; }

    /// <summary>Lowercase hex SHA-256 of the content.</summary>
    public required string Sha256 { get; set; }
    public DateTime CreatedAt { get; set; }
}

namespace ModelOpt.Engine.Pipeline;

/// <summary>A file a stage produced in the job's work directory, offered for download under <see cref="Name"/>.</summary>
public sealed record StageArtifact(string Name, string Path, string ContentType);

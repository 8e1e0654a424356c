namespace ModelOpt.Jobs.Artifacts;

/// <summary>
/// How a worker reaches the artifact store: <see cref="SharedFolderArtifactTransfer"/> where the store's folder is
/// mounted (the default), <see cref="ApiArtifactTransfer"/> where only the API's host keeps it.
/// </summary>
public interface IArtifactTransfer
{
    /// <summary>A local path of the stored file (a checkpoint, an uploaded dataset); null when the store does not have it.</summary>
    /// <exception cref="ArtifactTransferException">The file arrived with another SHA-256 than <paramref name="sha256"/>.</exception>
    Task<string?> FetchAsync(string relativePath, string sha256, CancellationToken cancellationToken);

    /// <summary>The job's work folder, holding every artifact its completed stages stored (a later stage reads them there).</summary>
    Task<string> PrepareWorkDirectoryAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a file a stage wrote at <paramref name="relativePath"/>, replacing a file an unfinished earlier attempt left
    /// there; complete and hashed before it is visible. <paramref name="executionId"/> is the run's claim on the job: the
    /// API stores nothing for a run that no longer holds it.
    /// </summary>
    Task<StoredFile> PublishAsync(string sourcePath, string relativePath, Guid executionId, CancellationToken cancellationToken);
}

/// <summary>The header a worker's artifact upload names its run's claim on the job with.</summary>
public static class ExecutionIdHeader
{
    public const string Name = "ModelOpt-Execution-Id";
}

/// <summary>A file that did not arrive intact (checksum or HTTP failure); the job's attempt fails and is retried.</summary>
public sealed class ArtifactTransferException(string message, Exception? inner = null) : Exception(message, inner);

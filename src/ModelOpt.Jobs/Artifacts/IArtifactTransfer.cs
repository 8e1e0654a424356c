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

    /// <summary>Stores a file a stage wrote at <paramref name="relativePath"/>, replacing any previous one; complete and hashed before it is visible.</summary>
    Task<StoredFile> PublishAsync(string sourcePath, string relativePath, CancellationToken cancellationToken);
}

/// <summary>A file that did not arrive intact (checksum or HTTP failure); the job's attempt fails and is retried.</summary>
public sealed class ArtifactTransferException(string message, Exception? inner = null) : Exception(message, inner);

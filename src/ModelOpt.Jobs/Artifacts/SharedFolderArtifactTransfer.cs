namespace ModelOpt.Jobs.Artifacts;

/// <summary>The store's folder is mounted on this worker: inputs are read in place, the work folder lives in the store, artifacts are copied in.</summary>
public sealed class SharedFolderArtifactTransfer(ArtifactStore store) : IArtifactTransfer
{
    public Task<string?> FetchAsync(string relativePath, string sha256, CancellationToken cancellationToken)
    {
        var path = store.FullPath(relativePath);
        return Task.FromResult(File.Exists(path) ? path : null);
    }

    public Task<string> PrepareWorkDirectoryAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var directory = store.WorkDirectory(jobId);
        Directory.CreateDirectory(directory);
        return Task.FromResult(directory);
    }

    public Task<StoredFile> PublishAsync(string sourcePath, string relativePath, Guid executionId, CancellationToken cancellationToken) =>
        store.ImportAsync(sourcePath, relativePath, cancellationToken);
}

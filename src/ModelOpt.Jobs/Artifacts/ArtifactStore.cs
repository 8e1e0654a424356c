using System.Security.Cryptography;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Artifacts;

/// <summary>A file placed in the store: its path under the root, length and SHA-256 (lowercase hex).</summary>
public sealed record StoredFile(string RelativePath, long SizeBytes, string Sha256);

/// <summary>
/// Files under one root shared by the API and every worker: <c>checkpoints/{id}/…</c>, <c>datasets/{id}/…</c>, <c>jobs/{id}/artifacts/…</c>
/// and each job's work folder <c>jobs/{id}/work</c> (kept between attempts so a job resumes where it stopped).
/// Every file is written to a temporary file on the same volume, hashed while written, then moved into place, so a
/// reader never sees half a file.
/// </summary>
public sealed class ArtifactStore(IOptions<StorageOptions> options)
{
    private const int BufferSize = 1 << 20;

    public string Root { get; } = options.Value.ResolvedArtifactRoot;

    public string TempFolder => Path.Combine(Root, ".tmp");

    public static string CheckpointPath(Guid id, string fileName) => $"checkpoints/{id:N}/{fileName}";

    public static string DatasetPath(Guid id, string fileName) => $"datasets/{id:N}/{fileName}";

    public static string JobArtifactPath(Guid jobId, string name) => $"jobs/{jobId:N}/artifacts/{name}";

    public string WorkDirectory(Guid jobId) => Path.Combine(Root, "jobs", jobId.ToString("N"), "work");

    public string FullPath(string relativePath)
    {
        var full = Path.GetFullPath(Path.Combine(Root, relativePath));
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Path '{relativePath}' leaves the artifact store.", nameof(relativePath));
        }
        return full;
    }

    /// <summary>Streams <paramref name="content"/> to a temporary file, hashing it on the way; nothing is kept in memory.</summary>
    /// <exception cref="PayloadTooLargeException">More than <paramref name="maxBytes"/> bytes arrived (the temporary file is deleted).</exception>
    /// <param name="maxBytesSetting">The setting <paramref name="maxBytes"/> comes from, named in the 413's message.</param>
    public async Task<TempFile> WriteTempAsync(Stream content, long? maxBytes, CancellationToken cancellationToken, string? maxBytesSetting = null)
    {
        Directory.CreateDirectory(TempFolder);
        var path = Path.Combine(TempFolder, $"{Guid.NewGuid():N}.part");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    length += read;
                    if (maxBytes is { } max && length > max)
                    {
                        throw new PayloadTooLargeException(max, maxBytesSetting);
                    }
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                await file.FlushAsync(cancellationToken);
            }
            return new TempFile(this, path, length, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            TryDelete(path);
            throw;
        }
    }

    /// <summary>Copies a file (e.g. from a job's work folder) into the store at <paramref name="relativePath"/>, replacing any previous one.</summary>
    public async Task<StoredFile> ImportAsync(string sourcePath, string relativePath, CancellationToken cancellationToken)
    {
        await using var source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        using var temp = await WriteTempAsync(source, maxBytes: null, cancellationToken);
        return temp.MoveTo(relativePath);
    }

    public Stream OpenRead(string relativePath) =>
        new FileStream(FullPath(relativePath), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);

    public bool Exists(string relativePath) => File.Exists(FullPath(relativePath));

    /// <summary>Deletes a file and the folders it leaves empty below the root.</summary>
    public void Delete(string relativePath)
    {
        var full = FullPath(relativePath);
        TryDelete(full);
        var folder = Path.GetDirectoryName(full);
        while (folder is not null && folder.Length > Root.Length && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
        {
            Directory.Delete(folder);
            folder = Path.GetDirectoryName(folder);
        }
    }

    /// <summary>Whether the store can be written (for the health check).</summary>
    public bool CanWrite()
    {
        try
        {
            Directory.CreateDirectory(TempFolder);
            var probe = Path.Combine(TempFolder, $"health-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary file is harmless: it is never referenced by a row.
        }
    }

    /// <summary>A hashed file in the store's temporary folder; deleted on dispose unless moved into place.</summary>
    public sealed class TempFile(ArtifactStore store, string path, long length, string sha256) : IDisposable
    {
        private bool moved;

        public long SizeBytes => length;
        public string Sha256 => sha256;
        public string Path => path;

        public StoredFile MoveTo(string relativePath)
        {
            var target = store.FullPath(relativePath);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Move(path, target, overwrite: true);
            moved = true;
            return new StoredFile(relativePath, length, sha256);
        }

        public void Dispose()
        {
            if (!moved)
            {
                TryDelete(path);
            }
        }
    }
}

/// <summary>A request body over the configured upload limit (HTTP 413).</summary>
public sealed class PayloadTooLargeException(long maxBytes, string? setting = null)
    : Exception($"The upload exceeds the limit of {maxBytes} bytes{(setting is null ? "" : $" ({setting})")}.")
{
    public long MaxBytes { get; } = maxBytes;
}

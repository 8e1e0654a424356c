using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Artifacts;

/// <summary>
/// A worker without the store's folder: it downloads inputs and completed stages' artifacts from the API
/// (<c>GET /api/workers/files/{path}</c>, resumed with a range request after an interruption) into its own data root and
/// uploads each stage's artifacts
/// (<c>PUT /api/workers/files/{path}</c> with a <c>Content-Digest</c>). Both directions are streamed, never held in memory,
/// and SHA-256 checked: a download against the hash the database records, an upload by the API against the digest
/// the worker sends, and the API's answer against the worker's own hash.
/// </summary>
public sealed class ApiArtifactTransfer : IArtifactTransfer, IDisposable
{
    /// <summary>The API's routes for workers' files; the API maps the same constant.</summary>
    public const string FilesRoute = "api/workers/files";

    private const int BufferSize = 1 << 16;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient http;
    private readonly IServiceScopeFactory scopes;
    private readonly ILogger<ApiArtifactTransfer> logger;
    private readonly string root;

    public ApiArtifactTransfer(IOptions<WorkerOptions> worker, IOptions<StorageOptions> storage, IServiceScopeFactory scopes, ILogger<ApiArtifactTransfer> logger)
    {
        // A stage's artifact can take minutes on a slow link: the stage's token bounds the transfer, not a fixed timeout.
        http = new HttpClient { BaseAddress = worker.Value.ApiUrl, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", worker.Value.ApiKey);
        this.scopes = scopes;
        this.logger = logger;
        root = Path.Combine(storage.Value.ResolvedDataRoot, "worker");
    }

    public async Task<string?> FetchAsync(string relativePath, string sha256, CancellationToken cancellationToken)
    {
        var local = LocalPath(Path.Combine(root, "inputs"), relativePath);
        if (File.Exists(local) && await ContentDigest.OfFileAsync(local, cancellationToken) == sha256)
        {
            return local;
        }
        return await DownloadAsync(relativePath, local, sha256, cancellationToken) ? local : null;
    }

    public async Task<string> PrepareWorkDirectoryAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, "jobs", jobId.ToString("N"), "work");
        Directory.CreateDirectory(directory);
        List<JobArtifact> artifacts;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            artifacts = await db.JobArtifacts.AsNoTracking().Where(a => a.JobId == jobId).ToListAsync(cancellationToken);
        }
        // A stage reads its predecessors' files by name from the work folder: bring back those another worker stored.
        foreach (var artifact in artifacts)
        {
            var local = LocalPath(directory, artifact.Name);
            if (File.Exists(local) && await ContentDigest.OfFileAsync(local, cancellationToken) == artifact.Sha256)
            {
                continue;
            }
            if (!await DownloadAsync(artifact.RelativePath, local, artifact.Sha256, cancellationToken))
            {
                throw new ArtifactTransferException($"Artifact '{artifact.Name}' of stage {artifact.Stage} is missing from the API's artifact store.");
            }
            logger.LogInformation("Fetched {Artifact} ({Bytes} bytes, stage {Stage}) of job {JobId} from the API", artifact.Name, artifact.SizeBytes, artifact.Stage, jobId);
        }
        return directory;
    }

    public async Task<StoredFile> PublishAsync(string sourcePath, string relativePath, Guid executionId, CancellationToken cancellationToken)
    {
        var sha256 = await ContentDigest.OfFileAsync(sourcePath, cancellationToken);
        await using var file = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        using var content = new StreamContent(file, BufferSize);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentLength = file.Length;
        content.Headers.TryAddWithoutValidation(ContentDigest.Header, ContentDigest.Format(sha256));
        using var request = new HttpRequestMessage(HttpMethod.Put, UrlOf(relativePath)) { Content = content };
        request.Headers.Add(ExecutionIdHeader.Name, executionId.ToString());
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new ArtifactTransferException(
                $"The API refused artifact '{Path.GetFileName(relativePath)}' ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
        var stored = await response.Content.ReadFromJsonAsync<StoredFile>(Json, cancellationToken)
                     ?? throw new ArtifactTransferException("The API answered an artifact upload without a body.");
        if (stored.Sha256 != sha256 || stored.RelativePath != relativePath)
        {
            throw new ArtifactTransferException($"The API stored '{stored.RelativePath}' with SHA-256 {stored.Sha256}; the worker sent {relativePath} with {sha256}.");
        }
        logger.LogInformation("Uploaded {Artifact} ({Bytes} bytes) to the API", relativePath, stored.SizeBytes);
        return stored;
    }

    public void Dispose() => http.Dispose();

    /// <summary>
    /// Streams the stored file to <paramref name="target"/> through <c>{target}.partial</c>; false when the API has no such
    /// file. A partial file left by an interrupted attempt is resumed with a range request (its bytes are hashed first),
    /// and the whole is checked against <paramref name="sha256"/> before it is moved into place.
    /// </summary>
    private async Task<bool> DownloadAsync(string relativePath, string target, string sha256, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = target + ".partial";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, BufferSize, useAsync: true);
        var buffer = new byte[BufferSize];
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, UrlOf(relativePath));
        if (file.Length > 0)
        {
            request.Headers.Range = new RangeHeaderValue(file.Length, null);
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await file.DisposeAsync();
            File.Delete(partial);
            return false;
        }
        if (response.StatusCode is not HttpStatusCode.PartialContent)
        {
            // A full answer (or a refused range: the partial file is as long as the stored one, or longer): start over.
            file.SetLength(0);
            hash.GetHashAndReset();
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                await file.DisposeAsync();
                File.Delete(partial);
                return await DownloadAsync(relativePath, target, sha256, cancellationToken);
            }
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new ArtifactTransferException($"The API answered {(int)response.StatusCode} for '{Path.GetFileName(relativePath)}'.");
        }
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            logger.LogInformation("Resuming {File} at byte {Offset}", Path.GetFileName(relativePath), file.Length);
        }
        await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
        {
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        await file.DisposeAsync();
        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual != sha256)
        {
            File.Delete(partial);
            throw new ArtifactTransferException($"'{Path.GetFileName(relativePath)}' arrived with SHA-256 {actual}; the database records {sha256}.");
        }
        File.Move(partial, target, overwrite: true);
        return true;
    }

    private static string UrlOf(string relativePath) =>
        $"{FilesRoute}/{string.Join('/', relativePath.Split('/').Select(Uri.EscapeDataString))}";

    private static string LocalPath(string folder, string relativePath)
    {
        var full = Path.GetFullPath(Path.Combine(folder, relativePath));
        if (!full.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArtifactTransferException($"Path '{relativePath}' leaves the worker's folder.");
        }
        return full;
    }
}

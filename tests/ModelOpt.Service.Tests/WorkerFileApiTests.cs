using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The artifact store for workers without the shared folder: worker keys only, uploads stored only when their
/// Content-Digest holds, and only for the running claim of a job, for a stage not yet recorded.
/// </summary>
public sealed class WorkerFileApiTests : PostgresApiTest
{
    private static string ArtifactPath(Guid jobId, string name) => ArtifactStore.JobArtifactPath(jobId, $"Convert/{name}");

    private static HttpRequestMessage Put(string path, byte[] body, string? digestOf, Guid? executionId)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (digestOf is not null)
        {
            content.Headers.TryAddWithoutValidation(ContentDigest.Header, digestOf);
        }
        var request = new HttpRequestMessage(HttpMethod.Put, $"/{ApiArtifactTransfer.FilesRoute}/{path}") { Content = content };
        if (executionId is { } id)
        {
            request.Headers.Add(ExecutionIdHeader.Name, id.ToString());
        }
        return request;
    }

    /// <summary>A queued job (no worker runs here) claimed by hand, as a worker's claim would: running, with an execution id.</summary>
    private static async Task<(Guid JobId, Guid ExecutionId)> RunningJobAsync(ServiceFactory factory, HttpClient client)
    {
        var job = await client.SubmitAsync(new { model = ModelZoo.ResNet20, dataset = "fashion-mnist" });
        var executionId = Guid.NewGuid();
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(u => u
            .SetProperty(j => j.Status, JobStatus.Running)
            .SetProperty(j => j.ExecutionId, executionId));
        return (job.Id, executionId);
    }

    private Task<(Guid JobId, Guid ExecutionId)> RunningJobAsync() => RunningJobAsync(Factory, Client);

    [Fact]
    public async Task An_upload_is_stored_when_its_digest_holds_and_downloads_byte_for_byte()
    {
        var worker = Factory.CreateClient(await Factory.CreateKeyAsync(ApiKeyScope.Worker));
        var body = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var sha256 = TestCheckpoints.Sha256(body);
        var (jobId, executionId) = await RunningJobAsync();
        var path = ArtifactPath(jobId, "model-int8.pt");

        var response = await worker.SendAsync(Put(path, body, ContentDigest.Format(sha256), executionId));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(new StoredFile(path, body.Length, sha256), await response.ReadAsync<StoredFile>());
        Assert.Equal(body, await worker.GetByteArrayAsync($"/{ApiArtifactTransfer.FilesRoute}/{path}"));
        Assert.Contains(path, Factory.StoredFiles());
    }

    [Fact]
    public async Task An_upload_whose_body_does_not_match_its_digest_is_422_and_nothing_stays()
    {
        var worker = Factory.CreateClient(await Factory.CreateKeyAsync(ApiKeyScope.Worker));
        var body = RandomNumberGenerator.GetBytes(100_000);
        var damaged = body.ToArray();
        damaged[50_000] ^= 1;
        var (jobId, executionId) = await RunningJobAsync();
        var path = ArtifactPath(jobId, "model-int8.pt");

        var problem = await (await worker.SendAsync(Put(path, damaged, ContentDigest.Format(TestCheckpoints.Sha256(body)), executionId)))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var missing = await (await worker.SendAsync(Put(path, body, null, executionId))).ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("nothing was stored", problem.GetProperty("detail").GetString());
        Assert.True(missing.GetProperty("errors").TryGetProperty(ContentDigest.Header, out _));
        Assert.DoesNotContain(Factory.StoredFiles(), f => f.StartsWith("jobs/", StringComparison.Ordinal) || f.EndsWith(".part", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Worker_files_need_a_worker_or_admin_key_and_uploads_go_only_under_a_job_s_artifacts()
    {
        var writer = Factory.CreateClient(await Factory.CreateKeyAsync(ApiKeyScope.Write));
        var worker = Factory.CreateClient(await Factory.CreateKeyAsync(ApiKeyScope.Worker));
        var body = new byte[] { 1, 2, 3 };
        var digest = ContentDigest.Format(TestCheckpoints.Sha256(body));

        await (await writer.SendAsync(Put(ArtifactPath(Guid.NewGuid(), "a.bin"), body, digest, Guid.NewGuid()))).ProblemAsync(HttpStatusCode.Forbidden);
        await (await writer.GetAsync($"/{ApiArtifactTransfer.FilesRoute}/checkpoints/x/y.pth")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await worker.SendAsync(Put("checkpoints/0123/evil.pth", body, digest, Guid.NewGuid()))).ProblemAsync(HttpStatusCode.BadRequest);
        await (await worker.GetAsync($"/{ApiArtifactTransfer.FilesRoute}/modelopt.db")).ProblemAsync(HttpStatusCode.NotFound);
        await (await worker.GetAsync($"/{ApiArtifactTransfer.FilesRoute}/checkpoints/none/none.pth")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_worker_writes_only_for_its_running_claim_and_never_over_a_recorded_stage()
    {
        var worker = Factory.CreateClient(await Factory.CreateKeyAsync(ApiKeyScope.Worker));
        var body = new byte[] { 1, 2, 3 };
        var digest = ContentDigest.Format(TestCheckpoints.Sha256(body));
        var (jobId, executionId) = await RunningJobAsync();
        var path = ArtifactPath(jobId, "model-int8.pt");

        await (await worker.SendAsync(Put(ArtifactPath(Guid.NewGuid(), "a.bin"), body, digest, executionId))).ProblemAsync(HttpStatusCode.NotFound);
        var noClaim = await (await worker.SendAsync(Put(path, body, digest, null))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(noClaim.GetProperty("errors").TryGetProperty(ExecutionIdHeader.Name, out _));
        await (await worker.SendAsync(Put(path, body, digest, Guid.NewGuid()))).ProblemAsync(HttpStatusCode.Conflict);

        // The stage completes as StageRecorder records it: its artifact row with the stored file's hash.
        var stored = await (await worker.SendAsync(Put(path, body, digest, executionId))).ReadAsync<StoredFile>();
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            db.JobStages.Add(new JobStage { JobId = jobId, Stage = PipelineStage.Convert, StartedAt = DateTime.UtcNow, CompletedAt = DateTime.UtcNow });
            db.JobArtifacts.Add(new JobArtifact
            {
                JobId = jobId, Stage = PipelineStage.Convert, Name = "model-int8.pt", ContentType = "application/octet-stream",
                RelativePath = stored.RelativePath, SizeBytes = stored.SizeBytes, Sha256 = stored.Sha256, CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }
        var rewrite = new byte[] { 6, 6, 6 };
        var rewriteDigest = ContentDigest.Format(TestCheckpoints.Sha256(rewrite));
        await (await worker.SendAsync(Put(path, rewrite, rewriteDigest, executionId))).ProblemAsync(HttpStatusCode.Conflict);
        await (await worker.SendAsync(Put(ArtifactPath(jobId, "extra.bin"), rewrite, rewriteDigest, executionId))).ProblemAsync(HttpStatusCode.Conflict);

        // Finished: nothing of the job changes any more, whatever the claim says.
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Jobs.Where(j => j.Id == jobId)
                .ExecuteUpdateAsync(u => u.SetProperty(j => j.Status, JobStatus.Succeeded));
        }
        var finished = ArtifactStore.JobArtifactPath(jobId, "Compile/model-int8.pt");
        var problem = await (await worker.SendAsync(Put(finished, rewrite, rewriteDigest, executionId))).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("Succeeded", problem.GetProperty("detail").GetString());
        Assert.Equal(body, await worker.GetByteArrayAsync($"/{ApiArtifactTransfer.FilesRoute}/{path}"));
        Assert.Equal([path], Factory.StoredFiles().Where(f => f.StartsWith("jobs/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_interrupted_download_resumes_from_its_partial_file_and_the_hash_checks_the_whole()
    {
        await using var api = new ServiceFactory(ServiceFactory.Postgres(Db, embeddedWorker: false));
        var address = api.StartKestrel();
        var key = await api.CreateKeyAsync(ApiKeyScope.Worker);
        var body = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 5);
        var sha256 = TestCheckpoints.Sha256(body);
        var (jobId, executionId) = await RunningJobAsync(api, api.CreateClient());
        var path = ArtifactPath(jobId, "model-int8.pt");
        Assert.Equal(HttpStatusCode.Created, (await api.CreateClient(key).SendAsync(Put(path, body, ContentDigest.Format(sha256), executionId))).StatusCode);
        var root = Directory.CreateTempSubdirectory("modelopt-transfer-").FullName;
        try
        {
            using var transfer = new ApiArtifactTransfer(
                Options.Create(new WorkerOptions { Artifacts = ArtifactAccess.Api, ApiUrl = address, ApiKey = key }),
                Options.Create(new StorageOptions { DataRoot = root }),
                api.Services.GetRequiredService<IServiceScopeFactory>(), NullLogger<ApiArtifactTransfer>.Instance);
            var local = Path.Combine(root, "worker", "inputs", path);
            var partial = local + ".partial";
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);

            // A partial file whose bytes are not the file's: resumed after them, the whole fails its SHA-256 and is dropped.
            await File.WriteAllBytesAsync(partial, new byte[1_000_000]);
            await Assert.ThrowsAsync<ArtifactTransferException>(() => transfer.FetchAsync(path, sha256, CancellationToken.None));
            Assert.False(File.Exists(partial));

            // The first megabyte of an interrupted download: only the rest is fetched.
            await File.WriteAllBytesAsync(partial, body[..1_000_000]);
            Assert.Equal(local, await transfer.FetchAsync(path, sha256, CancellationToken.None));
            Assert.Equal(body, await File.ReadAllBytesAsync(local));

            // A partial file as long as the whole: the range is refused (416) and the download starts over.
            File.Delete(local);
            await File.WriteAllBytesAsync(partial, body);
            Assert.Equal(local, await transfer.FetchAsync(path, sha256, CancellationToken.None));
            Assert.Equal(body, await File.ReadAllBytesAsync(local));
            Assert.False(File.Exists(partial));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Content_digest_round_trips_a_sha256_and_rejects_other_members()
    {
        var sha256 = TestCheckpoints.Sha256([42]);

        Assert.Equal(sha256, ContentDigest.ParseSha256(ContentDigest.Format(sha256)));
        Assert.Equal(sha256, ContentDigest.ParseSha256($"sha-512=:AAAA:, {ContentDigest.Format(sha256)}"));
        Assert.Null(ContentDigest.ParseSha256("sha-256=:AAAA:"));
        Assert.Null(ContentDigest.ParseSha256(null));
    }
}

using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using Xunit.Abstractions;

namespace ModelOpt.Service.Tests;

/// <summary>
/// Two ModelOpt.Worker processes with their own data roots and no shared folder (ModelOpt:Worker:Artifacts = Api),
/// one PostgreSQL, the API on loopback holding the only artifact store; the real engine on a small Fashion-MNIST job.
/// </summary>
public sealed class ScaleOutWithoutSharedFolderTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;
    private readonly List<string> workerRoots = [];

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: false));
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        await db.DisposeAsync();
        foreach (var root in workerRoots)
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private WorkerProcess StartRemoteWorker(Uri api, string workerKey)
    {
        var root = Directory.CreateTempSubdirectory("modelopt-remote-worker-").FullName;
        workerRoots.Add(root);
        return WorkerProcess.Start(db, root, new Dictionary<string, string>
        {
            ["ModelOpt__Worker__Artifacts"] = "Api",
            ["ModelOpt__Worker__ApiUrl"] = api.ToString(),
            ["ModelOpt__Worker__ApiKey"] = workerKey,
        });
    }

    [Fact]
    public async Task RealPipeline_a_killed_remote_worker_s_job_resumes_on_another_fetching_completed_stages_through_the_api()
    {
        var api = factory.StartKestrel();
        var client = factory.CreateClient();
        var workerKey = await factory.CreateKeyAsync(ApiKeyScope.Worker);
        var checkpoint = await (await client.PostAsync("/api/checkpoints",
            TestCheckpoints.Form(TestCheckpoints.ZooModel(ModelZoo.ResNet20, inputChannels: 1), "resnet20.pth", ModelZoo.ResNet20))).ReadAsync<CheckpointDto>();
        var first = StartRemoteWorker(api, workerKey);
        var firstRoot = workerRoots[0];
        var job = await client.SubmitAsync(new
        {
            model = ModelZoo.ResNet20,
            dataset = "fashion-mnist",
            checkpointId = checkpoint.Id,
            quantization = new { calibrationImages = 64, calibrationBatchSize = 32 },
            evaluation = new { testSubset = 1000, latencyBatchSize = 32, warmupRuns = 1, timedRuns = 10 },
        });

        // Killed once calibrate's artifacts are stored and a later stage runs: that stage needs them back.
        var before = await client.WaitForJobAsync(job.Id,
            j => j.Stages.Any(s => s.Stage == PipelineStage.Calibrate && s.State == StageState.Completed) && j.Status == JobStatus.Running, Timeout);
        first.Kill();
        var completedBefore = before.Stages.Where(s => s.State == StageState.Completed).ToDictionary(s => s.Stage, s => s.CompletedAt);
        Assert.Contains(before.Stages, s => s.State != StageState.Completed);
        using var second = StartRemoteWorker(api, workerKey);
        var secondRoot = workerRoots[1];
        job = await client.WaitForFinishAsync(job.Id, Timeout);
        var firstOutput = first.Output;
        first.Dispose();
        output.WriteLine(second.Output);

        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Error}\n{second.Output}");
        Assert.True(job.Attempts >= 2);
        foreach (var (stage, completedAt) in completedBefore)
        {
            Assert.Equal(completedAt, job.Stages.Single(s => s.Stage == stage).CompletedAt); // not run again
        }
        // Inputs and artifacts moved through the API: each worker downloaded the checkpoint, the second fetched calibrate's files.
        Assert.Contains("Uploaded jobs/", firstOutput);
        Assert.Contains($"Fetched {JobWorkspace.CalibratedActivations} (", second.Output);
        foreach (var root in workerRoots)
        {
            Assert.True(File.Exists(Path.Combine(root, "worker", "inputs", "checkpoints", checkpoint.Id.ToString("N"), "resnet20.pth")));
            Assert.False(Directory.Exists(Path.Combine(root, "artifacts", "jobs")), $"{root} holds an artifact store");
        }
        Assert.DoesNotContain(factory.StoredFiles(), f => f.Contains("/work/", StringComparison.Ordinal));

        // What the API serves is what the workers produced, byte for byte.
        var work = Path.Combine(secondRoot, "worker", "jobs", job.Id.ToString("N"), "work");
        Assert.Contains(job.Artifacts, a => a.Name == JobWorkspace.Int8TorchScript);
        foreach (var artifact in job.Artifacts)
        {
            var served = TestCheckpoints.Sha256(await client.GetByteArrayAsync(artifact.Url));
            Assert.Equal(artifact.Sha256, served);
            Assert.Equal(served, await ContentDigest.OfFileAsync(Path.Combine(work, artifact.Name), CancellationToken.None));
        }
        Assert.True(File.Exists(Path.Combine(firstRoot, "worker", "jobs", job.Id.ToString("N"), "work", JobWorkspace.CalibratedActivations)));

        var workers = (await client.GetFromJsonAsync<PagedResult<WorkerDto>>("/api/workers", ApiClient.Json))?.Items;
        Assert.Equal([WorkerState.Live, WorkerState.Lost], workers!.Select(w => w.State));
        Assert.All(workers!, w => Assert.Equal("Api", w.ArtifactAccess));
    }
}

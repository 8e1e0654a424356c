using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Infrastructure;
using Xunit.Abstractions;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The whole flow over the real engine on a small configuration (ResNet-20, a Fashion-MNIST subset, small calibration),
/// PostgreSQL, and workers both embedded and in separate processes (one of them really killed).
/// </summary>
public sealed class RealPipelineTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);
    private TestPostgres db = null!;
    private readonly List<IAsyncDisposable> disposables = [];

    public async Task InitializeAsync() => db = await TestPostgres.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var d in disposables)
        {
            await d.DisposeAsync();
        }
        await db.DisposeAsync();
    }

    private ServiceFactory Service(bool embeddedWorker)
    {
        var factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker));
        disposables.Add(factory);
        return factory;
    }

    private const int TestImages = 500;

    // Small enough that the whole service test project runs in a few minutes on two cores.
    private static object SmallJob(Guid? checkpointId, int trainSubset = 2000) => new
    {
        model = ModelZoo.ResNet20,
        dataset = "fashion-mnist",
        checkpointId,
        training = new { epochs = 1, trainSubset, batchSize = 64 },
        quantization = new { activationObserver = "histogram", calibrationImages = 64, calibrationBatchSize = 32 },
        evaluation = new { testSubset = TestImages, latencyBatchSize = 32, warmupRuns = 1, timedRuns = 5 },
    };

    private static byte[] ResNet20Checkpoint(long inputChannels, string model = ModelZoo.ResNet20) => TestCheckpoints.ZooModel(model, inputChannels);

    private static async Task<CheckpointDto> UploadRandomResNet20Async(HttpClient client) =>
        await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(ResNet20Checkpoint(1), "resnet20.pth", ModelZoo.ResNet20)))
            .ReadAsync<CheckpointDto>();

    /// <summary>Stage durations in the test output: where the service tests' minutes go.</summary>
    private void Report(JobDto job) =>
        output.WriteLine($"job {job.Status} in {job.ElapsedMs / 1000:F1} s: "
                         + string.Join(", ", job.Stages.Select(s => $"{s.Stage} {s.DurationMs / 1000:F1} s")));

    [Fact]
    public async Task RealPipeline_upload_then_job_runs_every_stage_and_the_int8_download_matches_its_sha256()
    {
        var factory = Service(embeddedWorker: true);
        var client = factory.CreateClient();
        var upload = await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(ResNet20Checkpoint(1), "resnet20.pth", ModelZoo.ResNet20));
        Assert.True(upload.StatusCode == HttpStatusCode.Created, await upload.Content.ReadAsStringAsync());
        var checkpoint = await upload.ReadAsync<CheckpointDto>();

        var job = await client.SubmitAsync(SmallJob(checkpoint.Id));
        job = await client.WaitForFinishAsync(job.Id, Timeout);
        Report(job);

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.DoesNotContain(job.Stages, s => s.Stage == PipelineStage.Train);
        Assert.All(job.Stages, s => Assert.Equal(StageState.Completed, s.State));
        Assert.NotEmpty(job.Stages.Single(s => s.Stage == PipelineStage.EvaluateFp32).Results);
        Assert.NotEmpty(job.Stages.Single(s => s.Stage == PipelineStage.Convert).Results);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            var rows = await context.StageResults.Where(r => r.JobId == job.Id).ToListAsync();
            Assert.All(rows, r => Assert.True(r.SizeBytes > 0 && r.LatencyMeanMs > 0));
            // Every form with an accuracy is scored on the same test images, so their accuracies are comparable; a compile
            // candidate whose score could not change the choice is not scored and has none (issue 28).
            Assert.All(rows, r => Assert.True(
                r.Accuracy is >= 0 and <= 1 && r.ImagesScored == TestImages
                || r.Stage == PipelineStage.Compile && r.Accuracy is null && r.ImagesScored == 0 && r.Note!.Contains("not scored"),
                $"{r.Backend}: {r.Accuracy} on {r.ImagesScored} images, {r.Note}"));
            Assert.All(rows.Where(r => r.Selected), r => Assert.Equal(TestImages, r.ImagesScored));
        }
        Assert.NotEmpty(job.Artifacts);
        foreach (var artifact in job.Artifacts)
        {
            Assert.Equal(artifact.Sha256, TestCheckpoints.Sha256(await client.GetByteArrayAsync(artifact.Url)));
        }
    }

    [Fact]
    public async Task RealPipeline_keep_float_and_the_per_layer_report()
    {
        const string kept = "layer2.1.conv1";
        var client = Service(embeddedWorker: true).CreateClient();
        var checkpoint = await UploadRandomResNet20Async(client);

        var job = await client.SubmitAsync(new
        {
            model = ModelZoo.ResNet20,
            dataset = "fashion-mnist",
            checkpointId = checkpoint.Id,
            quantization = new { calibrationImages = 64, calibrationBatchSize = 32, keepFloat = new[] { kept }, sensitivityImages = 64 },
            evaluation = new { testSubset = 64, latencyBatchSize = 8, warmupRuns = 1, timedRuns = 2 },
            compile = new { enabled = false },
        });
        job = await client.WaitForFinishAsync(job.Id, Timeout);
        Report(job);

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        var layers = await (await client.GetAsync($"/api/jobs/{job.Id}/layers")).ReadAsync<List<JobLayerDto>>();
        Assert.Equal(21, layers.Count); // resnet20's 21 convs and fc, less the one kept FP32.
        Assert.DoesNotContain(layers, l => l.Layer == kept);
        Assert.Equal(Enumerable.Range(0, 21), layers.Select(l => l.Rank));
        Assert.All(layers, l => Assert.True(l.AccuracyGainWhenFloat is not null && l.OutputScale > 0 && l.Mse >= 0));
        var manifest = await client.GetStringAsync(job.Artifacts.Single(a => a.Name == "model-int8.manifest.json").Url);
        Assert.Contains($"{kept} (Conv2d)", manifest);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{Guid.NewGuid()}/layers")).StatusCode);
    }

    [Fact]
    public async Task RealPipeline_an_unknown_keep_float_layer_fails_the_job_naming_the_models_layers()
    {
        var client = Service(embeddedWorker: true).CreateClient();
        var checkpoint = await UploadRandomResNet20Async(client);

        var job = await client.SubmitAsync(new
        {
            model = ModelZoo.ResNet20,
            dataset = "fashion-mnist",
            checkpointId = checkpoint.Id,
            quantization = new { calibrationImages = 32, calibrationBatchSize = 32, keepFloat = new[] { "layer9.conv" } },
            evaluation = new { testSubset = 32, latencyBatchSize = 8, warmupRuns = 1, timedRuns = 2 },
        });
        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("layer9.conv", job.Error);
        Assert.Contains("layer1.0.conv1", job.Error);
        Assert.StartsWith("Calibrate:", job.Error);
    }

    [Fact]
    public async Task RealPipeline_a_separate_worker_process_trains_and_quantizes()
    {
        var factory = Service(embeddedWorker: false);
        var client = factory.CreateClient();
        using var worker = WorkerProcess.Start(db, factory.DataRoot);

        var job = await client.SubmitAsync(SmallJob(null));
        job = await client.WaitForFinishAsync(job.Id, Timeout);
        Report(job);

        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Error}\n{worker.Output}");
        Assert.Equal(PipelineStage.Train, job.Stages[0].Stage);
        Assert.Contains(job.Artifacts, a => a.Stage == PipelineStage.Train);
        Assert.Contains($":{worker.Id}:", job.WorkerName);
        Assert.Contains(job.Id.ToString(), worker.Output); // per-job log context
    }

    [Fact]
    public async Task RealPipeline_a_killed_worker_s_job_resumes_on_another_worker_without_repeating_finished_stages()
    {
        var factory = Service(embeddedWorker: false);
        var client = factory.CreateClient();
        // From an uploaded checkpoint: training is covered above, and this test needs only a completed stage to keep.
        var upload = await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(ResNet20Checkpoint(1), "resnet20.pth", ModelZoo.ResNet20));
        var checkpoint = await upload.ReadAsync<CheckpointDto>();
        var first = WorkerProcess.Start(db, factory.DataRoot);
        var firstId = first.Id; // read before Dispose: a disposed Process has no id
        var job = await client.SubmitAsync(SmallJob(checkpoint.Id));

        // Kill once the first stage is done and the next one is under way.
        var before = await client.WaitForJobAsync(job.Id, j => j.Stages.Count(s => s.State == StageState.Completed) >= 1 && j.Status == JobStatus.Running, Timeout);
        first.Kill();
        var completedBefore = before.Stages.Where(s => s.State == StageState.Completed).ToDictionary(s => s.Stage, s => s.CompletedAt);
        using var second = WorkerProcess.Start(db, factory.DataRoot);
        job = await client.WaitForFinishAsync(job.Id, Timeout);
        first.Dispose();
        Report(job);

        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Error}\n{second.Output}");
        Assert.True(job.Attempts >= 2);
        foreach (var (stage, completedAt) in completedBefore)
        {
            Assert.Equal(completedAt, job.Stages.Single(s => s.Stage == stage).CompletedAt); // not run again
        }
        await using var scope = factory.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var stages = await context.JobStages.Where(s => s.JobId == job.Id).ToListAsync();
        Assert.Equal(stages.Count, stages.Select(s => s.Stage).Distinct().Count());
        Assert.Contains(stages, s => s.WorkerName!.Contains($":{firstId}:"));
        Assert.Contains(stages, s => s.WorkerName!.Contains($":{second.Id}:"));
    }

    [Fact]
    public async Task RealPipeline_cancel_inside_a_stage_stops_the_job()
    {
        var factory = Service(embeddedWorker: true);
        var client = factory.CreateClient();
        var job = await client.SubmitAsync(SmallJob(null, trainSubset: 20000));
        await client.WaitForJobAsync(job.Id, j => j.Status == JobStatus.Running && j.CurrentStage == PipelineStage.Train, Timeout);

        await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        job = await client.WaitForFinishAsync(job.Id, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.DoesNotContain(job.Stages, s => s.State == StageState.Completed);
    }

    [Fact]
    public async Task RealPipeline_upload_of_another_architecture_is_422_and_stores_nothing()
    {
        var factory = Service(embeddedWorker: false);
        var client = factory.CreateClient();

        var response = await client.PostAsync("/api/checkpoints",
            TestCheckpoints.Form(ResNet20Checkpoint(3, ModelZoo.ResNet18Cifar), "resnet18.pth", ModelZoo.ResNet20));

        await response.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.DoesNotContain(factory.StoredFiles(), f => f.StartsWith("checkpoints/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RealPipeline_a_checkpoint_of_another_architecture_fails_the_job_with_a_reason_when_no_model_was_named_at_upload()
    {
        var factory = Service(embeddedWorker: true);
        var client = factory.CreateClient();
        var uploaded = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(TestCheckpoints.Of(CheckpointFormat.PyTorch), "small.pth"))).ReadAsync<CheckpointDto>();

        var job = await client.SubmitAsync(SmallJob(uploaded.Id));
        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("does not match resnet20", job.Error);
        Assert.Contains("more (", job.Error); // 126 missing keys: the first ten, then the count
        Assert.Equal(1, job.Attempts); // an input error is not retried
    }
}

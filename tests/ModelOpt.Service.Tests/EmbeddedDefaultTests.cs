using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Jobs.Infrastructure;
using Xunit.Abstractions;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The zero-setup default: SQLite files and an in-process worker under a local data folder. A fake stage runner serves
/// all but one test; that one runs the real engine, as the quickstart does.
/// </summary>
public sealed class EmbeddedDefaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly OrchestrationTestStageRunner runner = new();
    private ServiceFactory factory = null!;
    private HttpClient client = null!;

    public Task InitializeAsync()
    {
        factory = new ServiceFactory(ServiceFactory.Sqlite(), runner);
        client = factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await factory.DisposeAsync();

    [Fact]
    public async Task Health_reports_database_hangfire_and_artifact_store()
    {
        var response = await client.GetAsync("/health");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        foreach (var check in new[] { "database", "hangfire", "artifact-store" })
        {
            Assert.Equal("Healthy", body.GetProperty("checks").GetProperty(check).GetProperty("status").GetString());
        }
        Assert.True(File.Exists(Path.Combine(factory.DataRoot, "modelopt.db")));
        Assert.True(File.Exists(Path.Combine(factory.DataRoot, "hangfire.db")));
    }

    [Fact]
    public async Task Health_is_degraded_when_the_artifact_store_s_disk_has_less_free_space_than_configured()
    {
        var settings = ServiceFactory.Sqlite();
        settings["ModelOpt:Storage:MinFreeBytes"] = long.MaxValue.ToString();
        await using var tight = new ServiceFactory(settings, runner);

        using var admin = tight.CreateClient(await tight.CreateKeyAsync(ApiKeyScope.Admin)); // descriptions are for admins
        var body = JsonDocument.Parse(await admin.GetStringAsync("/health")).RootElement;

        Assert.Equal("Degraded", body.GetProperty("status").GetString());
        var store = body.GetProperty("checks").GetProperty("artifact-store");
        Assert.Equal("Degraded", store.GetProperty("status").GetString());
        Assert.Contains("ModelOpt:Storage:MinFreeBytes", store.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Catalog_lists_models_and_datasets_with_availability()
    {
        var models = await client.GetFromJsonAsync<List<ModelDto>>("/api/models", ApiClient.Json);
        var datasets = (await client.GetFromJsonAsync<PagedResult<DatasetDto>>("/api/datasets", ApiClient.Json))!.Items;

        Assert.Contains(models!, m => m.Name == "resnet18-cifar" && m.ParameterCount > 11_000_000);
        Assert.Contains(models!, m => m.Name == "resnet20" && m.ParameterCount is > 250_000 and < 300_000);
        Assert.Equal(["fashion-mnist", "cifar10", "synthetic"], datasets!.Select(d => d.Name));
        Assert.True(datasets!.Single(d => d.Name == "synthetic").Available);
        Assert.Equal(File.Exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
            datasets!.Single(d => d.Name == "fashion-mnist").Available);
    }

    [Fact]
    public async Task Swagger_document_describes_the_jobs_endpoints_with_the_notebook_example()
    {
        var json = await client.GetStringAsync("/swagger/v1/swagger.json");
        var doc = JsonDocument.Parse(json).RootElement;

        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/api/jobs", "/api/jobs/{id}", "/api/jobs/{id}/cancel", "/api/jobs/{id}/retry", "/api/jobs/{id}/artifacts/{name}",
                     "/api/checkpoints", "/api/checkpoints/{id}/content", "/api/models", "/api/datasets" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} missing from the OpenAPI document");
        }
        Assert.Contains("resnet18-cifar", json);
        Assert.Contains("histogram", json);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
    }

    [Fact]
    public async Task Embedded_worker_runs_every_stage_and_serves_artifacts_with_sha256_etag_and_ranges()
    {
        var job = await client.SubmitAsync(new { model = "resnet20", dataset = "synthetic", training = new { epochs = 1, trainSubset = 64 } });

        job = await client.WaitForFinishAsync(job.Id, TimeSpan.FromSeconds(60));

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal(100, job.Progress);
        Assert.All(job.Stages, s => Assert.Equal(StageState.Completed, s.State));
        Assert.Equal(5, job.Stages.Count);
        var artifact = job.Artifacts.Single(a => a.Name == "model_int8.pt");
        var download = await client.GetAsync(artifact.Url);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal(artifact.Sha256, TestCheckpoints.Sha256(bytes));
        Assert.Equal($"\"{artifact.Sha256}\"", download.Headers.ETag?.Tag);
        Assert.Equal(bytes.Length, download.Content.Headers.ContentLength);

        var range = new HttpRequestMessage(HttpMethod.Get, artifact.Url);
        range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(2, 5);
        var partial = await client.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[2..6], await partial.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Embedded_default_runs_the_real_engine_through_every_stage_to_an_int8_model()
    {
        const int testImages = 64;
        await using var real = new ServiceFactory(ServiceFactory.Sqlite());
        var realClient = real.CreateClient();

        // The notebook's job (train first) cut down to well under a minute on two cores: resnet20 on real Fashion-MNIST.
        var job = await realClient.SubmitAsync(new
        {
            model = ModelZoo.ResNet20,
            dataset = "fashion-mnist",
            training = new { epochs = 1, trainSubset = 256, batchSize = 64 },
            quantization = new { calibrationImages = 64, calibrationBatchSize = 32 },
            evaluation = new { testSubset = testImages, latencyBatchSize = 8, warmupRuns = 1, timedRuns = 2 },
        });
        job = await realClient.WaitForFinishAsync(job.Id, TimeSpan.FromMinutes(3));
        output.WriteLine($"job {job.Status} in {job.ElapsedMs / 1000:F1} s: " + string.Join(", ", job.Stages.Select(s => $"{s.Stage} {s.DurationMs / 1000:F1} s")));

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal(
            [PipelineStage.Train, PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile],
            job.Stages.Select(s => s.Stage));
        Assert.All(job.Stages, s => Assert.Equal(StageState.Completed, s.State));
        List<StageResult> rows;
        await using (var scope = real.Services.CreateAsyncScope())
        {
            rows = await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().StageResults.Where(r => r.JobId == job.Id).ToListAsync();
        }
        // A compile candidate whose score could not change the choice is not scored (issue 28).
        Assert.All(rows, r => Assert.True(
            r.SizeBytes > 0 && r.LatencyMeanMs > 0
            && (r.ImagesScored == testImages && r.Accuracy is >= 0 and <= 1
                || r.Stage == PipelineStage.Compile && !r.Selected && r.Accuracy is null && r.ImagesScored == 0),
            $"{r.Stage} {r.Backend}: {r.Note}"));
        var fp32 = rows.Single(r => r.Stage == PipelineStage.EvaluateFp32);
        var converted = rows.Single(r => r.Stage == PipelineStage.Convert);
        Assert.Single(rows, r => r.Stage == PipelineStage.Compile && r.Selected);

        var artifact = job.Artifacts.Single(a => a.Name == JobWorkspace.Int8TorchScript);
        var bytes = await realClient.GetByteArrayAsync(artifact.Url);
        Assert.Equal(artifact.Sha256, TestCheckpoints.Sha256(bytes));
        Assert.Equal(converted.SizeBytes, bytes.Length);
        // int8 weights are a quarter of FP32's; resnet20's 0.27 M parameters leave the archive's fixed overhead visible.
        Assert.InRange((double)converted.SizeBytes / fp32.SizeBytes, 0.25, 0.32);
        using var int8 = TorchScriptInt8Model.Load(bytes);
        using var images = TorchSharp.torch.zeros(2, 1, 32, 32);
        using var logits = int8.Run(images);
        Assert.Equal([2L, 10L], logits.shape);
    }
}

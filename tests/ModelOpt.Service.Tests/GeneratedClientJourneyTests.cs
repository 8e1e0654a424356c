using System.Security.Cryptography;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Gen = ModelOpt.Client;
using Kiota = ModelOpt.Client.Kiota;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The whole journey through the clients NSwag and Kiota generate from docs/openapi.json (src/ModelOpt.Client,
/// src/ModelOpt.Client.Kiota), against the API on
/// PostgreSQL with its embedded worker: every answer must deserialize as the document says (enums by name, nulls where
/// nullable), and every refusal must arrive as a typed problem. The stage runner writes small files instead of running models,
/// so the journey takes seconds; the real pipeline is RealPipelineTests'.
/// </summary>
public sealed class GeneratedClientJourneyTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly OrchestrationTestStageRunner runner = new();
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: true), runner);
    }

    public async Task DisposeAsync()
    {
        runner.Unblock();
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Upload_create_poll_cancel_retry_download_report_workers_and_compare_through_the_generated_client()
    {
        var api = new Gen.ModelOptClient(factory.CreateClient());

        var checkpointBytes = TestCheckpoints.ZooModel("resnet20", 1);
        var checkpoint = await api.UploadCheckpointAsync(null, new Gen.FileParameter(new MemoryStream(checkpointBytes), "resnet20.pth"), "resnet20");
        Assert.Equal(TestCheckpoints.Sha256(checkpointBytes), checkpoint.Sha256);
        Assert.Equal(Gen.CheckpointFormat.PyTorch, checkpoint.Format);
        var datasetBytes = TestDatasets.FashionMnist("npz", 40, 20);
        var dataset = await api.UploadDatasetAsync(null, new Gen.FileParameter(new MemoryStream(datasetBytes), "fashion.npz"), "fashion-small");
        Assert.Equal(10, dataset.Classes);
        Assert.Contains(checkpoint.Id, (await api.ListCheckpointsAsync(1, 20)).Items.Select(c => c.Id));
        Assert.Contains(dataset.Id, (await api.ListDatasetsAsync(1, 200)).Items.Select(d => d.Id));

        // Created from the uploads, with the settings a generated client sends by default.
        var created = await api.CreateJobAsync("journey-1", new Gen.CreateJobRequest
        {
            Model = "resnet20", Dataset = dataset.Id!.Value.ToString(), CheckpointId = checkpoint.Id,
            // Every setting object as the generated client builds it: its defaults are the document's, so the server's.
            Quantization = new Gen.QuantizationOptions(), Preprocessing = new Gen.ImagePreprocessing(), Split = new Gen.DatasetSplitOptions(),
            Compile = new Gen.CompileOptions(), Evaluation = new Gen.EvaluationOptions { TestSubset = 20 },
        });
        Assert.Equal(Gen.JobStatus.Queued, created.Status);
        Assert.Null(created.CurrentStage);
        Assert.Null(created.Headline);
        Assert.Equal(128, created.Spec.Evaluation!.LatencyBatchSize);
        Assert.True(created.Spec.Quantization!.PerChannelWeights);
        Assert.Equal(99.99, created.Spec.Quantization!.Percentile);
        var succeeded = await PollAsync(api, created.Id, j => j.Status is Gen.JobStatus.Succeeded or Gen.JobStatus.Failed);
        Assert.True(succeeded.Status == Gen.JobStatus.Succeeded, succeeded.Error);
        Assert.NotNull(succeeded.Headline);
        Assert.Contains(succeeded.Stages, s => s.Stage == Gen.PipelineStage.Calibrate && s.State == Gen.StageState.Completed);
        Assert.All(succeeded.Stages.Where(s => s.Stage != Gen.PipelineStage.Calibrate), s => Assert.Null(s.Calibration));

        var artifacts = await api.ListJobArtifactsAsync(succeeded.Id, 1, 200);
        Assert.Equal(artifacts.TotalCount, artifacts.Items.Count);
        Assert.NotEmpty(artifacts.Items);
        foreach (var artifact in artifacts.Items)
        {
            using var file = await api.DownloadJobArtifactAsync(succeeded.Id, artifact.Name);
            Assert.Equal(artifact.Sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(file.Stream)));
        }
        var report = await api.GetJobReportAsync(succeeded.Id);
        Assert.Contains(succeeded.Id.ToString(), report);
        var workers = await api.ListWorkersAsync(1, 200);
        Assert.Contains(workers.Items, w => w.State == Gen.WorkerState.Live);

        // Cancelled inside a stage, then retried to the end.
        runner.BlockStage = Engine.Pipeline.PipelineStage.Calibrate;
        var second = await api.CreateJobAsync(null, new Gen.CreateJobRequest { Model = "resnet20", Dataset = "synthetic" });
        await runner.Blocked.Task.WaitAsync(Timeout);
        var cancelling = await api.CancelJobAsync(second.Id);
        Assert.True(cancelling.CancelRequested || cancelling.Status == Gen.JobStatus.Cancelled);
        await PollAsync(api, second.Id, j => j.Status == Gen.JobStatus.Cancelled);
        runner.Unblock();
        var retried = await api.RetryJobAsync(second.Id);
        Assert.Equal(Gen.JobStatus.Queued, retried.Status);
        await PollAsync(api, second.Id, j => j.Status == Gen.JobStatus.Succeeded);

        var listed = await api.ListJobsAsync([Gen.JobStatus.Succeeded], 1, 20, model: null, dataset: null, device: null);
        Assert.Equal(2, listed.TotalCount);
        var compared = await api.CompareJobsAsync($"{succeeded.Id},{second.Id}");
        Assert.Equal([succeeded.Id, second.Id], compared.Select(c => c.Id));

        // Typed problems: 404, 409, 422, 401.
        var missing = await Assert.ThrowsAsync<Gen.ModelOptApiException<Gen.ProblemDetails>>(() => api.GetJobAsync(Guid.NewGuid()));
        Assert.Equal((404, 404), (missing.StatusCode, missing.Result.Status));
        var finished = await Assert.ThrowsAsync<Gen.ModelOptApiException<Gen.ProblemDetails>>(() => api.CancelJobAsync(succeeded.Id));
        Assert.Equal(409, finished.StatusCode);
        Assert.Contains("Succeeded", finished.Result.Detail);
        var reused = await Assert.ThrowsAsync<Gen.ModelOptApiException<Gen.ProblemDetails>>(() =>
            api.CreateJobAsync("journey-1", new Gen.CreateJobRequest { Model = "resnet20", Dataset = "synthetic" }));
        Assert.Equal(422, reused.StatusCode);
        var invalid = await Assert.ThrowsAsync<Gen.ModelOptApiException<Gen.HttpValidationProblemDetails>>(() =>
            api.CreateJobAsync(null, new Gen.CreateJobRequest { Model = "resnet20", Dataset = "synthetic", Device = "tpu" }));
        Assert.True(invalid.Result.Errors!.ContainsKey("device"));
        var anonymous = new Gen.ModelOptClient(factory.CreateAnonymousClient());
        var unauthorized = await Assert.ThrowsAsync<Gen.ModelOptApiException<Gen.ProblemDetails>>(() => anonymous.ListWorkersAsync(null, null));
        Assert.Equal(401, unauthorized.StatusCode);
    }

    [Fact]
    public async Task Upload_create_poll_cancel_retry_download_report_workers_and_compare_through_the_kiota_client()
    {
        var adapter = KiotaAdapter(factory.CreateClient());
        var api = new Kiota.ModelOptKiotaClient(adapter);

        var checkpointBytes = TestCheckpoints.ZooModel("resnet20", 1);
        var checkpointForm = new MultipartBody();
        checkpointForm.AddOrReplacePart("file", "application/octet-stream", new MemoryStream(checkpointBytes), "resnet20.pth");
        checkpointForm.AddOrReplacePart("model", "text/plain", "resnet20");
        var checkpoint = await api.Api.Checkpoints.PostAsync(checkpointForm);
        Assert.Equal((TestCheckpoints.Sha256(checkpointBytes), Kiota.Models.CheckpointFormat.PyTorch), (checkpoint!.Sha256, checkpoint.Format));
        var datasetForm = new MultipartBody();
        datasetForm.AddOrReplacePart("file", "application/octet-stream", new MemoryStream(TestDatasets.FashionMnist("npz", 40, 20)), "fashion.npz");
        var dataset = await api.Api.Datasets.PostAsync(datasetForm);
        Assert.Equal(10, dataset!.Classes);
        Assert.Equal(1, (await api.Api.Datasets.GetAsync(q => q.QueryParameters.PageSize = 200))!.Items!.Count(d => d.Id == dataset.Id));

        var created = await api.Api.Jobs.PostAsync(new Kiota.Models.CreateJobRequest
        {
            Model = "resnet20", Dataset = dataset.Id!.Value.ToString(), CheckpointId = checkpoint.Id,
            Evaluation = new Kiota.Models.EvaluationOptions { TestSubset = 20 },
        });
        Assert.Equal(Kiota.Models.JobStatus.Queued, created!.Status);
        Assert.Null(created.CurrentStage);
        var succeeded = await PollAsync(api, created.Id!.Value, j => j.Status is Kiota.Models.JobStatus.Succeeded or Kiota.Models.JobStatus.Failed);
        Assert.True(succeeded.Status == Kiota.Models.JobStatus.Succeeded, succeeded.Error);
        Assert.NotNull(succeeded.Headline);

        var job = api.Api.Jobs[succeeded.Id!.Value];
        var artifacts = (await job.Artifacts.GetAsync(q => q.QueryParameters.PageSize = 200))!;
        Assert.Equal(artifacts.TotalCount, artifacts.Items!.Count);
        Assert.NotEmpty(artifacts.Items);
        foreach (var artifact in artifacts.Items)
        {
            // Kiota types a download whose operation also declares 304 as void (its no-content rule), so the stream is read
            // through the generated request builder's request and the same adapter.
            var download = job.Artifacts[artifact.Name!].ToGetRequestInformation();
            await using var file = await adapter.SendPrimitiveAsync<Stream>(download);
            Assert.Equal(artifact.Sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(file!)));
        }
        Assert.Contains(succeeded.Id.ToString()!, await job.Report.GetAsync());
        Assert.Contains((await api.Api.Workers.GetAsync())!.Items!, w => w.State == Kiota.Models.WorkerState.Live);

        runner.BlockStage = Engine.Pipeline.PipelineStage.Calibrate;
        var second = await api.Api.Jobs.PostAsync(new Kiota.Models.CreateJobRequest { Model = "resnet20", Dataset = "synthetic" });
        await runner.Blocked.Task.WaitAsync(Timeout);
        await api.Api.Jobs[second!.Id!.Value].Cancel.PostAsync();
        await PollAsync(api, second.Id.Value, j => j.Status == Kiota.Models.JobStatus.Cancelled);
        runner.Unblock();
        await api.Api.Jobs[second.Id.Value].Retry.PostAsync();
        await PollAsync(api, second.Id.Value, j => j.Status == Kiota.Models.JobStatus.Succeeded);
        var listed = await api.Api.Jobs.GetAsync(q => q.QueryParameters.StatusAsJobStatus = [Kiota.Models.JobStatus.Succeeded]);
        Assert.Equal(2, listed!.TotalCount);
        var compared = await api.Api.Jobs.Compare.GetAsync(q => q.QueryParameters.Ids = $"{succeeded.Id},{second.Id}");
        Assert.Equal([succeeded.Id, second.Id], compared!.Select(c => c.Id));

        var missing = await Assert.ThrowsAsync<Kiota.Models.ProblemDetails>(() => api.Api.Jobs[Guid.NewGuid()].GetAsync());
        Assert.Equal(404, missing.ResponseStatusCode);
        var finished = await Assert.ThrowsAsync<Kiota.Models.ProblemDetails>(() => job.Cancel.PostAsync());
        Assert.Equal(409, finished.ResponseStatusCode);
        var invalid = await Assert.ThrowsAsync<Kiota.Models.HttpValidationProblemDetails>(() =>
            api.Api.Jobs.PostAsync(new Kiota.Models.CreateJobRequest { Model = "resnet20", Dataset = "synthetic", Device = "tpu" }));
        Assert.Equal(400, invalid.ResponseStatusCode);
        var unauthorized = await Assert.ThrowsAsync<Kiota.Models.ProblemDetails>(() => KiotaClient(factory.CreateAnonymousClient()).Api.Workers.GetAsync());
        Assert.Equal(401, unauthorized.ResponseStatusCode);
    }

    [Fact]
    public async Task A_caller_over_its_rate_limit_gets_a_typed_429_problem()
    {
        var settings = ServiceFactory.Postgres(db, embeddedWorker: false);
        settings["ModelOpt:RateLimit:PermitsPerSecond"] = "1";
        settings["ModelOpt:RateLimit:Burst"] = "2";
        await using var limited = new ServiceFactory(settings);
        var api = new Gen.ModelOptClient(limited.CreateClient());

        var refusal = await Assert.ThrowsAsync<Gen.ModelOptApiException<Gen.ProblemDetails>>(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await api.ListModelsAsync();
            }
        });

        Assert.Equal(429, refusal.StatusCode);
        Assert.True(refusal.Headers.ContainsKey("Retry-After"));
    }

    private static Kiota.ModelOptKiotaClient KiotaClient(HttpClient http) => new(KiotaAdapter(http));

    private static HttpClientRequestAdapter KiotaAdapter(HttpClient http) =>
        new(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = http.BaseAddress!.ToString().TrimEnd('/') };

    private static async Task<Kiota.Models.JobDto> PollAsync(Kiota.ModelOptKiotaClient api, Guid id, Func<Kiota.Models.JobDto, bool> until)
    {
        var deadline = DateTime.UtcNow + Timeout;
        Kiota.Models.JobDto job;
        while (!until(job = (await api.Api.Jobs[id].GetAsync())!))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Job {id} is still {job.Status} after {Timeout}: {job.Error}");
            await Task.Delay(200);
        }
        return job;
    }

    private static async Task<Gen.JobDto> PollAsync(Gen.ModelOptClient api, Guid id, Func<Gen.JobDto, bool> until)
    {
        var deadline = DateTime.UtcNow + Timeout;
        Gen.JobDto job;
        while (!until(job = await api.GetJobAsync(id)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Job {id} is still {job.Status} after {Timeout}: {job.Error}");
            await Task.Delay(200);
        }
        return job;
    }
}

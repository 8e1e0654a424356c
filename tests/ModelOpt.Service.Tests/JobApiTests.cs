using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Service.Tests;

/// <summary>Job submission, validation, listing and state rules against PostgreSQL, with no worker running.</summary>
public sealed class JobApiTests : PostgresApiTest
{
    public static TheoryData<string, string> BadRequests => new()
    {
        { """{"model":"vgg16","dataset":"fashion-mnist"}""", "model" },
        { """{"model":"resnet20","dataset":"imagenet"}""", "dataset" },
        { """{"dataset":"fashion-mnist"}""", "model" },
        { """{"model":"resnet20","dataset":"synthetic","training":{"epochs":-1}}""", "training.epochs" },
        { """{"model":"resnet20","dataset":"synthetic","training":{"learningRate":1000}}""", "training.learningRate" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"calibrationImages":0}}""", "quantization.calibrationImages" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"calibrationBatchSize":1000000}}""", "quantization.calibrationBatchSize" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"activationObserver":"magic"}}""", "quantization.activationObserver" },
        { """{"model":"resnet20","dataset":"synthetic","evaluation":{"timedRuns":0}}""", "evaluation.timedRuns" },
        { """{"model":"resnet20","dataset":"synthetic","evaluation":{"testSubset":-500}}""", "evaluation.testSubset" },
        { """{"model":"resnet20","dataset":"synthetic","evaluation":{"latencyBatchSize":0}}""", "evaluation.latencyBatchSize" },
        { """{"model":"resnet20","dataset":"synthetic","evaluation":{"warmupRuns":-1}}""", "evaluation.warmupRuns" },
        { """{"model":"resnet20","dataset":"synthetic","evaluation":{"timedRuns":1000000}}""", "evaluation.timedRuns" },
        { """{"model":"resnet20","dataset":"synthetic","training":{"trainSubset":-5}}""", "training.trainSubset" },
        { """{"model":"resnet20","dataset":"synthetic","training":{"batchSize":0}}""", "training.batchSize" },
        { """{"model":"resnet20","dataset":"synthetic","training":{"seed":-1}}""", "training.seed" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"percentile":0}}""", "quantization.percentile" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"percentile":101}}""", "quantization.percentile" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"calibrationSpreadSeeds":11}}""", "quantization.calibrationSpreadSeeds" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"calibrationSpreadSeeds":1}}""", "quantization.calibrationSpreadSeeds" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"calibrationSpreadSeeds":3,"calibrationSampling":"first"}}""", "quantization.calibrationSpreadSeeds" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"maxAccuracyDrop":-0.1}}""", "quantization.maxAccuracyDrop" },
        { """{"model":"resnet20","dataset":"synthetic","quantization":{"maxAccuracyDrop":100.5}}""", "quantization.maxAccuracyDrop" },
        { """{"model":"resnet20","dataset":"synthetic","device":"tpu"}""", "device" },
        { """{"model":"resnet20","dataset":"fashion-mnist","dataPath":"/etc"}""", "dataPath" },
        { """{"model":"resnet20","dataset":"fashion-mnist","dataPath":"/usr/share/datasets\u0000/fashion-mnist"}""", "dataPath" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Invalid_job_requests_are_400_with_field_errors_and_create_nothing(string json, string field)
    {
        var response = await Client.PostAsync("/api/jobs", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        await using var scope = Factory.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Jobs.CountAsync());
    }

    [Fact]
    public async Task A_checkpoint_that_does_not_exist_is_a_404_naming_it_as_another_teams_is_and_creates_nothing()
    {
        var response = await Client.PostAsync("/api/jobs", new StringContent(
            """{"model":"resnet20","dataset":"synthetic","checkpointId":"6f9619ff-8b86-d011-b42d-00c04fc964ff"}""", System.Text.Encoding.UTF8, "application/json"));

        var problem = await response.ProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("Checkpoint 6f9619ff-8b86-d011-b42d-00c04fc964ff does not exist", problem.GetProperty("detail").GetString());
        await using var scope = Factory.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Jobs.CountAsync());
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        var response = await Client.PostAsync("/api/jobs", new StringContent("{\"model\":", System.Text.Encoding.UTF8, "application/json"));

        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Submitted_job_is_queued_with_the_notebook_defaults_and_its_status_url()
    {
        var response = await Client.PostAsJsonAsync("/api/jobs", new { model = "resnet18-cifar", dataset = "fashion-mnist" }, ApiClient.Json);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.ReadAsync<JobDto>();
        Assert.Equal($"/api/jobs/{job.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.True(job.TrainFirst);
        Assert.Equal("histogram", job.Spec.Quantization.ActivationObserver);
        Assert.Equal(256, job.Spec.Quantization.CalibrationImages);
        Assert.Equal(5, job.Stages.Count);
        Assert.All(job.Stages, s => Assert.Equal(StageState.Pending, s.State));
    }

    [Fact]
    public async Task The_accuracy_budget_bias_correction_cross_layer_equalization_and_auto_observer_round_trip_and_are_off_by_default()
    {
        var budgeted = await (await Client.PostAsJsonAsync("/api/jobs", new
        {
            model = "resnet20", dataset = "synthetic", quantization = new { maxAccuracyDrop = 0.3, biasCorrection = true, crossLayerEqualization = true, activationObserver = "auto" },
        }, ApiClient.Json)).ReadAsync<JobDto>();
        var plain = await (await Client.PostAsJsonAsync("/api/jobs", new { model = "resnet20", dataset = "synthetic" }, ApiClient.Json)).ReadAsync<JobDto>();

        var stored = await (await Client.GetAsync($"/api/jobs/{budgeted.Id}")).ReadAsync<JobDto>();
        Assert.Equal(0.3, stored.Spec.Quantization.MaxAccuracyDrop);
        Assert.True(stored.Spec.Quantization.BiasCorrection);
        Assert.True(stored.Spec.Quantization.CrossLayerEqualization);
        Assert.Equal("auto", stored.Spec.Quantization.ActivationObserver);
        Assert.Null(plain.Spec.Quantization.MaxAccuracyDrop);
        Assert.False(plain.Spec.Quantization.BiasCorrection);
        Assert.False(plain.Spec.Quantization.CrossLayerEqualization);
    }

    [Fact]
    public async Task Jobs_are_listed_newest_first_paged_and_filtered_by_status()
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await Client.SubmitAsync(new { model = "resnet20", dataset = "synthetic" })).Id);
        }
        await Client.PostAsync($"/api/jobs/{ids[0]}/cancel", null);

        var page = await Client.GetFromJsonAsync<PagedResult<JobSummaryDto>>("/api/jobs?page=1&pageSize=2", ApiClient.Json);
        var cancelled = await Client.GetFromJsonAsync<PagedResult<JobSummaryDto>>("/api/jobs?status=Cancelled", ApiClient.Json);

        Assert.Equal(3, page!.TotalCount);
        Assert.Equal([ids[2], ids[1]], page.Items.Select(j => j.Id));
        Assert.Equal([ids[0]], cancelled!.Items.Select(j => j.Id));
        await (await Client.GetAsync("/api/jobs?pageSize=0")).ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Cancel_retry_and_lookups_follow_the_job_state()
    {
        var job = await Client.SubmitAsync(new { model = "resnet20", dataset = "synthetic" });

        await (await Client.PostAsync($"/api/jobs/{job.Id}/retry", null)).ProblemAsync(HttpStatusCode.Conflict);
        var cancel = await Client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(JobStatus.Cancelled, (await cancel.ReadAsync<JobDto>()).Status);
        await (await Client.PostAsync($"/api/jobs/{job.Id}/cancel", null)).ProblemAsync(HttpStatusCode.Conflict);
        var retry = await Client.PostAsync($"/api/jobs/{job.Id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(JobStatus.Queued, (await retry.ReadAsync<JobDto>()).Status);

        await (await Client.GetAsync($"/api/jobs/{Guid.NewGuid()}")).ProblemAsync(HttpStatusCode.NotFound);
        await (await Client.GetAsync($"/api/jobs/{job.Id}/artifacts/nothing.pt")).ProblemAsync(HttpStatusCode.NotFound);
        var artifacts = (await Client.GetFromJsonAsync<PagedResult<ArtifactDto>>($"/api/jobs/{job.Id}/artifacts", ApiClient.Json))!;
        Assert.Empty(artifacts.Items);
        Assert.Equal(0, artifacts.TotalCount);
    }
}

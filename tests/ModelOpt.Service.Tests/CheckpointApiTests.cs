using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Service.Tests;

/// <summary>Checkpoint upload, download and deletion against PostgreSQL (no worker: jobs stay queued).</summary>
public sealed class CheckpointApiTests : IAsyncLifetime
{
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        var settings = ServiceFactory.Postgres(db, embeddedWorker: false);
        settings["ModelOpt:Uploads:MaxBytes"] = "65536";
        factory = new ServiceFactory(settings);
        client = factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    [Theory]
    [InlineData("weights.safetensors", CheckpointFormat.Safetensors)]
    [InlineData("model.pth", CheckpointFormat.PyTorch)]
    [InlineData("model.bin", CheckpointFormat.TorchSharp)]
    [InlineData("safetensors-named.pth", CheckpointFormat.Safetensors)]
    [InlineData("no-extension", CheckpointFormat.PyTorch)]
    public async Task Upload_stores_the_file_records_its_sha256_and_serves_it_back(string fileName, CheckpointFormat format)
    {
        var content = TestCheckpoints.Of(format);

        var response = await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(content, fileName));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var checkpoint = await response.ReadAsync<CheckpointDto>();
        Assert.Equal(format, checkpoint.Format);
        Assert.Equal(content.Length, checkpoint.SizeBytes);
        Assert.Equal(TestCheckpoints.Sha256(content), checkpoint.Sha256);
        Assert.Equal($"/api/checkpoints/{checkpoint.Id}", response.Headers.Location?.OriginalString);

        var listed = await client.GetFromJsonAsync<PagedResult<CheckpointDto>>("/api/checkpoints", ApiClient.Json);
        Assert.Contains(listed!.Items, c => c.Id == checkpoint.Id);
        var download = await client.GetAsync(checkpoint.ContentUrl);
        Assert.Equal(content, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{checkpoint.Sha256}\"", download.Headers.ETag?.Tag);
        Assert.Equal(["bytes"], download.Headers.AcceptRanges);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/checkpoints/{checkpoint.Id}")).StatusCode);
        await (await client.GetAsync($"/api/checkpoints/{checkpoint.Id}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain(factory.StoredFiles(), f => f.StartsWith("checkpoints/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("corrupt.safetensors", "not a PyTorch, safetensors or TorchSharp checkpoint")]
    [InlineData("corrupt.pth", "not a PyTorch, safetensors or TorchSharp checkpoint")]
    [InlineData("notes.txt", "not a PyTorch, safetensors or TorchSharp checkpoint")]
    [InlineData("empty.pth", "empty")]
    public async Task Upload_of_a_corrupt_or_foreign_file_is_a_400_problem_and_leaves_nothing_behind(string fileName, string reason)
    {
        var content = fileName.StartsWith("empty", StringComparison.Ordinal) ? [] : "this is not a checkpoint at all, just text"u8.ToArray();

        var problem = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(content, fileName))).ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("file")[0].GetString());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Upload_of_a_truncated_safetensors_is_rejected()
    {
        var content = TestCheckpoints.Safetensors(100)[..200];

        var problem = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(content, "cut.safetensors"))).ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("claims bytes [0,400)", problem.GetProperty("detail").GetString());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Upload_over_the_configured_limit_is_413_and_leaves_nothing_behind()
    {
        var content = TestCheckpoints.Safetensors(40_000); // 160 kB > 64 KiB limit

        var problem = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(content, "big.safetensors"))).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("65536", problem.GetProperty("detail").GetString());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Upload_naming_an_unknown_model_is_a_400_with_the_field()
    {
        var problem = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(TestCheckpoints.Safetensors(), "w.safetensors", "vgg16")))
            .ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("vgg16", problem.GetProperty("errors").GetProperty("model")[0].GetString());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Delete_is_refused_while_a_queued_job_uses_the_checkpoint()
    {
        var uploaded = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(TestCheckpoints.Safetensors(), "w.safetensors"))).ReadAsync<CheckpointDto>();
        var job = await client.SubmitAsync(new { model = "resnet20", dataset = "synthetic", checkpointId = uploaded.Id });
        Assert.False(job.TrainFirst);
        Assert.DoesNotContain(job.Stages, s => s.Stage == Engine.Pipeline.PipelineStage.Train);

        var problem = await (await client.DeleteAsync($"/api/checkpoints/{uploaded.Id}")).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains(job.Id.ToString(), problem.GetProperty("detail").GetString());

        await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/checkpoints/{uploaded.Id}")).StatusCode);
        Assert.Null((await client.GetJobAsync(job.Id)).CheckpointId);
        await (await client.PostAsync($"/api/jobs/{job.Id}/retry", null)).ProblemAsync(HttpStatusCode.Conflict);
    }

    private async Task AssertNothingStoredAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        Assert.Equal(0, await context.Checkpoints.CountAsync());
        Assert.DoesNotContain(factory.StoredFiles(), f => !f.StartsWith(".tmp/health-", StringComparison.Ordinal));
    }
}

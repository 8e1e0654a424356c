using System.Text.Json;
using System.Text.Json.Nodes;
using ModelOpt.Engine.Models;
using ModelOpt.Service.Tests.Infrastructure.Browser;
using Xunit.Abstractions;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The user's own workflow in Swagger UI, in real headless Chromium over the real engine and PostgreSQL: upload a PyTorch
/// checkpoint, create a job from the pre-filled example, poll it, list its artifacts and download the int8 model.
/// </summary>
public sealed class SwaggerUiJourneyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(8);
    private const string CheckpointFile = "resnet20_1ch_random.pth";
    private const int TestImages = 200;
    private TestPostgres db = null!;

    public async Task InitializeAsync() => db = await TestPostgres.CreateAsync();

    public async Task DisposeAsync() => await db.DisposeAsync();

    [SkippableFact]
    public async Task A_user_uploads_a_checkpoint_runs_a_job_and_downloads_the_int8_model_in_Swagger_UI()
    {
        using var browser = HeadlessChromium.Start();
        await using var factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: true));
        var api = factory.StartKestrel();
        var page = new SwaggerUiPage(browser, api).Open().Authorize(await factory.CreateKeyAsync(ApiKeyScope.Write));

        // Upload: the form has a file part and a model field, and the curl line Swagger UI prints sends both.
        var upload = page.Operation("Checkpoints", "UploadCheckpoint").TryItOut()
            .SetFormFile("file", Path.Combine(AppContext.BaseDirectory, "TestData", CheckpointFile))
            .SetFormField("model", ModelZoo.ResNet20);
        Assert.Equal(201, upload.Execute());
        Assert.Contains("file=@", upload.Curl);
        Assert.Contains($"model={ModelZoo.ResNet20}", upload.Curl);
        var checkpoint = upload.ResponseJson;
        var checkpointId = checkpoint.GetProperty("id").GetString()!;
        Assert.Equal(CheckpointFile, checkpoint.GetProperty("fileName").GetString());
        Assert.Equal(ModelZoo.ResNet20, checkpoint.GetProperty("model").GetString());
        page.Screenshot("swagger-1-upload", upload);

        // Create: after a reload the pre-filled example names the newest checkpoint; edit it to a small test subset.
        page.Open();
        var create = page.Operation("Jobs", "CreateJob").TryItOut();
        var request = JsonNode.Parse(create.Body)!.AsObject();
        Assert.Equal(checkpointId, request["checkpointId"]!.GetValue<string>());
        Assert.Equal(ModelZoo.ResNet20, request["model"]!.GetValue<string>());
        request["quantization"] = new JsonObject { ["calibrationImages"] = 64 };
        request["evaluation"] = new JsonObject { ["testSubset"] = TestImages, ["latencyBatchSize"] = 32, ["warmupRuns"] = 1, ["timedRuns"] = 3 };
        create.SetBody(request.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Assert.Equal(202, create.Execute());
        var jobId = create.ResponseJson.GetProperty("id").GetString()!;
        page.Screenshot("swagger-2-create-job", create);

        // Poll: the id parameter is pre-filled with the newest job, so "Execute" alone follows it.
        page.Open();
        var get = page.Operation("Jobs", "GetJob").TryItOut();
        Assert.Equal(jobId, get.Parameter("id"));
        var deadline = DateTime.UtcNow + JobTimeout;
        string status;
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(200, get.Execute());
            status = get.ResponseJson.GetProperty("status").GetString()!;
            if (status is not ("Queued" or "Running"))
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Job {jobId} did not finish in {JobTimeout}: {get.ResponseText}");
        }
        Assert.True(status == "Succeeded", get.ResponseText);
        output.WriteLine($"job {jobId} succeeded in {get.ResponseJson.GetProperty("elapsedMs").GetDouble() / 1000:F1} s");
        page.Screenshot("swagger-3-job-succeeded", get);

        // Artifacts, then the int8 model as a file download whose SHA-256 is the one the job recorded.
        var list = page.Operation("Jobs", "ListJobArtifacts").TryItOut();
        Assert.Equal(jobId, list.Parameter("id"));
        Assert.Equal(200, list.Execute());
        var int8 = list.ResponseJson.GetProperty("items").EnumerateArray().Single(a => a.GetProperty("name").GetString() == "model-int8.pt");

        var download = page.Operation("Jobs", "DownloadJobArtifact").TryItOut();
        Assert.Equal("model-int8.pt", download.Parameter("name"));
        Assert.Equal(200, download.Execute());
        download.DownloadLink.Click();
        var file = await browser.WaitForDownloadAsync("model-int8.pt", TimeSpan.FromSeconds(60));
        Assert.Equal(int8.GetProperty("sha256").GetString(), TestCheckpoints.Sha256(await File.ReadAllBytesAsync(file)));
        Assert.Equal(int8.GetProperty("sizeBytes").GetInt64(), new FileInfo(file).Length);
        page.Screenshot("swagger-4-download", download);

        var recorded = await factory.CreateClient().GetJobAsync(Guid.Parse(jobId));
        Assert.Equal(recorded.Artifacts.Single(a => a.Name == "model-int8.pt").Sha256, int8.GetProperty("sha256").GetString());
    }
}

using System.Text.Json;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Service.Tests;

/// <summary>The ModelOpt.Worker host as its own process: it joins Hangfire on its device queue over PostgreSQL and takes jobs.</summary>
public sealed class WorkerProcessTests : IAsyncLifetime
{
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: false));
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    [Fact]
    public async Task A_separate_worker_process_serves_its_queue_and_runs_the_job_with_its_id_in_the_logs()
    {
        var client = factory.CreateClient();
        using var worker = WorkerProcess.Start(db, factory.DataRoot);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement hangfire;
        do
        {
            await Task.Delay(500);
            hangfire = JsonDocument.Parse(await client.GetStringAsync("/health")).RootElement.GetProperty("checks").GetProperty("hangfire");
        }
        while (hangfire.GetProperty("status").GetString() != "Healthy" && DateTime.UtcNow < deadline);
        Assert.True(hangfire.GetProperty("status").GetString() == "Healthy", worker.Output);

        var job = await client.SubmitAsync(new
        {
            model = "resnet20", dataset = "synthetic",
            training = new { epochs = 1, trainSubset = 128, batchSize = 64 },
            quantization = new { calibrationImages = 32, calibrationBatchSize = 32 },
            evaluation = new { testSubset = 64, latencyBatchSize = 16, warmupRuns = 1, timedRuns = 2 },
        });
        job = await client.WaitForFinishAsync(job.Id, TimeSpan.FromMinutes(8));

        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Error}\n{worker.Output}");
        Assert.Contains($":{worker.Id}:", job.WorkerName);
        Assert.Contains(job.Id.ToString(), worker.Output);
        Assert.Equal(Enum.GetValues<PipelineStage>().Where(s => s != PipelineStage.Qat), job.Stages.Select(s => s.Stage));
        Assert.All(job.Stages, s => Assert.Equal(StageState.Completed, s.State));
        Assert.Contains(job.Artifacts, a => a.Name == "model-int8.pt");
    }
}

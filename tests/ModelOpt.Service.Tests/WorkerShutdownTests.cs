using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Service.Tests;

/// <summary>
/// A worker stopped gracefully mid-stage releases its job at once (no waiting for the orphan timeout), and the next
/// worker on the same database and artifact folder resumes it from the last completed stage.
/// </summary>
public sealed class WorkerShutdownTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string dataRoot = Directory.CreateTempSubdirectory("modelopt-shutdown-").FullName;
    private TestPostgres db = null!;

    public async Task InitializeAsync() => db = await TestPostgres.CreateAsync();

    public async Task DisposeAsync()
    {
        await db.DisposeAsync();
        Directory.Delete(dataRoot, recursive: true);
    }

    private Dictionary<string, string?> Settings() => new(ServiceFactory.Postgres(db, embeddedWorker: true))
    {
        ["ModelOpt:Storage:DataRoot"] = dataRoot,
        // Far longer than the test: only the release can hand the job on this quickly.
        ["ModelOpt:Worker:HeartbeatTimeout"] = "00:10:00",
    };

    [Fact]
    public async Task A_graceful_shutdown_releases_the_job_and_the_next_worker_resumes_it()
    {
        var first = new OrchestrationTestStageRunner { BlockStage = PipelineStage.Calibrate };
        Guid jobId;
        await using (var factory = new ServiceFactory(Settings(), first))
        {
            var job = await factory.CreateClient().SubmitAsync(new { model = "resnet20", dataset = "synthetic", training = new { trainSubset = 64 } });
            jobId = job.Id;
            await first.Blocked.Task.WaitAsync(Timeout);
        }

        var released = await ReadJobAsync(jobId);
        Assert.Equal(JobStatus.Queued, released.Status);
        Assert.Null(released.ExecutionId);
        Assert.True(released.DispatchPending);
        Assert.Equal([PipelineStage.Train, PipelineStage.EvaluateFp32, PipelineStage.Calibrate], first.Calls.ToArray());

        var second = new OrchestrationTestStageRunner();
        await using (var factory = new ServiceFactory(Settings(), second))
        {
            var job = await factory.CreateClient().WaitForFinishAsync(jobId, Timeout);
            Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        }
        Assert.Equal([PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile], second.Calls.ToArray());
    }

    private async Task<OptimizationJob> ReadJobAsync(Guid id)
    {
        var options = new DbContextOptionsBuilder<PostgresModelOptDbContext>().UseNpgsql(db.ConnectionString).Options;
        await using var context = new PostgresModelOptDbContext(options);
        return await context.Jobs.AsNoTracking().SingleAsync(j => j.Id == id);
    }
}

using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Execution;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The job runner's orchestration on PostgreSQL with the embedded worker and the TEST-ONLY stage runner:
/// results and artifacts per stage, cancel inside a stage, resume from the last completed stage, retry policy,
/// orphaned-job re-queue. The same flows over the real engine are in <see cref="RealPipelineTests"/>.
/// </summary>
public sealed class OrchestrationTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly OrchestrationTestStageRunner runner = new();
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: true), runner);
        client = factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        runner.Unblock();
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    private static object Request => new { model = "resnet20", dataset = "synthetic", training = new { trainSubset = 64 } };

    [Fact]
    public async Task Every_stage_writes_its_results_and_artifacts_to_the_database_and_store()
    {
        var job = await client.SubmitAsync(Request);

        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal([PipelineStage.Train, PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile],
            runner.Calls.ToArray());
        Assert.Equal(["model_fp32.pth", "model_int8.pt", "model_int8.torchscript.pt"], job.Artifacts.Select(a => a.Name).Order());
        Assert.Equal(2, job.Stages.Single(s => s.Stage == PipelineStage.Compile).Results.Count);
        Assert.Equal(0.29, job.Stages.Single(s => s.Stage == PipelineStage.Convert).Results.Single().SizeMb);
        Assert.NotNull(job.ElapsedMs);
        await using var scope = factory.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        Assert.Equal(5, await context.JobStages.CountAsync(s => s.JobId == job.Id));
        Assert.Equal(4, await context.StageResults.CountAsync(r => r.JobId == job.Id));
        foreach (var artifact in job.Artifacts)
        {
            Assert.Equal(artifact.Sha256, TestCheckpoints.Sha256(await client.GetByteArrayAsync(artifact.Url)));
        }
        Assert.DoesNotContain(factory.StoredFiles(), f => f.EndsWith(".part", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_during_a_stage_stops_it_and_retry_resumes_from_the_last_completed_stage()
    {
        runner.BlockStage = PipelineStage.Calibrate;
        var job = await client.SubmitAsync(Request);
        await runner.Blocked.Task.WaitAsync(Timeout);
        var running = await client.GetJobAsync(job.Id);
        Assert.Equal(JobStatus.Running, running.Status);

        var cancel = await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.Contains("Calibrate", job.Error);
        Assert.Equal([StageState.Completed, StageState.Completed, StageState.Pending, StageState.Pending, StageState.Pending],
            job.Stages.Select(s => s.State));

        runner.Reset();
        await client.PostAsync($"/api/jobs/{job.Id}/retry", null);
        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal([PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile], runner.Calls.ToArray());
    }

    [Fact]
    public async Task A_running_job_reports_its_stage_s_eta_from_the_measured_rate_and_a_finished_one_none()
    {
        runner.BlockStage = PipelineStage.Calibrate;
        var job = await client.SubmitAsync(Request);
        await runner.Blocked.Task.WaitAsync(Timeout);
        var deadline = DateTime.UtcNow + Timeout;
        var running = await client.GetJobAsync(job.Id);
        while (running.EtaSeconds is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            running = await client.GetJobAsync(job.Id);
        }

        Assert.Equal(JobStatus.Running, running.Status);
        Assert.Equal(PipelineStage.Calibrate, running.CurrentStage);
        Assert.InRange(running.EtaSeconds ?? -1, 4.0, 15.0);

        runner.Unblock();
        job = await client.WaitForFinishAsync(job.Id, Timeout);
        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Null(job.EtaSeconds);
    }

    [Fact]
    public async Task A_transient_failure_is_retried_without_repeating_completed_stages()
    {
        runner.FailOnce(PipelineStage.Convert);
        var job = await client.SubmitAsync(Request);

        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal(2, job.Attempts);
        Assert.Equal([PipelineStage.Train, PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Convert, PipelineStage.Compile],
            runner.Calls.ToArray());
    }

    [Fact]
    public async Task Persistent_failures_stop_after_the_attempt_limit_with_the_reason()
    {
        runner.FailOnce(PipelineStage.EvaluateFp32, times: 10);
        var job = await client.SubmitAsync(Request);

        job = await client.WaitForFinishAsync(job.Id, TimeSpan.FromSeconds(90));

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal(JobRetryPolicy.MaxAttempts, job.Attempts);
        Assert.Contains("Simulated transient failure", job.Error);
        Assert.Equal(JobRetryPolicy.MaxAttempts, runner.Calls.Count(s => s == PipelineStage.EvaluateFp32));
        Assert.Equal(1, runner.Calls.Count(s => s == PipelineStage.Train));
    }

    [Fact]
    public async Task A_full_disk_fails_the_stage_with_the_reason_and_leaves_no_artifact_of_it()
    {
        runner.DiskFullAt = PipelineStage.Convert;
        var job = await client.SubmitAsync(Request);

        job = await client.WaitForFinishAsync(job.Id, TimeSpan.FromSeconds(90));

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.StartsWith("Convert: the server could not write the stage's files (No space left on device", job.Error);
        Assert.DoesNotContain("/dev/", job.Error);
        Assert.DoesNotContain(job.Stages, s => s.Stage == PipelineStage.Convert && s.State == StageState.Completed);
        Assert.DoesNotContain(job.Artifacts, a => a.Stage == PipelineStage.Convert);
        Assert.DoesNotContain(factory.StoredFiles(), f => f.StartsWith(".tmp/", StringComparison.Ordinal) && !f.StartsWith(".tmp/health-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_input_error_fails_the_job_at_once_without_retry()
    {
        runner.RejectInputAt = PipelineStage.Train;
        var job = await client.SubmitAsync(Request);

        job = await client.WaitForFinishAsync(job.Id, Timeout);
        await Task.Delay(3000); // a retry, if one were scheduled, would have started by now

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal("Train: The test says this input is bad.", job.Error);
        Assert.Equal([PipelineStage.Train], runner.Calls.ToArray());
        Assert.Equal(1, (await client.GetJobAsync(job.Id)).Attempts);
    }

    [Fact]
    public async Task A_running_job_whose_worker_stopped_beating_is_requeued_and_resumes()
    {
        // A job left Running by a worker that died after completing two stages: stale heartbeat, foreign execution id.
        var job = await client.SubmitAsync(Request);
        runner.BlockStage = PipelineStage.Calibrate;
        await runner.Blocked.Task.WaitAsync(Timeout);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            // Take the job away from the live run, as if its process had died long ago.
            await context.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.ExecutionId, Guid.NewGuid())
                .SetProperty(j => j.HeartbeatAt, DateTime.UtcNow.AddMinutes(-10)));
        }
        runner.Reset(); // the live run notices it lost the job and stops; the sweeper re-queues it

        job = await client.WaitForJobAsync(job.Id, j => j.Status == JobStatus.Succeeded, Timeout);

        Assert.Contains(PipelineStage.Calibrate, runner.Calls);
        Assert.DoesNotContain(PipelineStage.Train, runner.Calls);
        Assert.DoesNotContain(PipelineStage.EvaluateFp32, runner.Calls);
        Assert.True(job.Attempts >= 2);
    }
}

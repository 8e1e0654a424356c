using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Dispatch;
using ModelOpt.Jobs.Execution;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Lifecycle;

namespace ModelOpt.Service.Tests;

/// <summary>
/// Races for one job and a dispatch that fails, on PostgreSQL, with the embedded worker and the TEST-ONLY stage
/// runner: the state machine's guarded updates must leave exactly one winner, and no job may wait with nothing dispatched.
/// </summary>
public sealed class JobLifecycleTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly OrchestrationTestStageRunner runner = new();
    private readonly HangfireOutage hangfire = new();
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: true), runner, hangfire.Install);
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
    public async Task Three_runs_racing_for_one_queued_job_run_each_stage_once()
    {
        // Three workers handed the same job at the same moment (duplicate dispatches): one claims it, two walk away.
        var id = await InsertQueuedJobAsync(dispatchPending: false);

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => NewRunner().RunAsync(id, CancellationToken.None)))).WaitAsync(Timeout);

        var job = await client.GetJobAsync(id);
        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal(OptimizationPipeline.StagesFor(trainFirst: true), runner.Calls.ToArray());
        Assert.Equal(1, job.Attempts);
    }

    [Fact]
    public async Task A_second_run_leaves_a_job_that_a_live_run_holds()
    {
        runner.BlockStage = PipelineStage.Train;
        var job = await client.SubmitAsync(Request);
        await runner.Blocked.Task.WaitAsync(Timeout);

        await NewRunner().RunAsync(job.Id, CancellationToken.None).WaitAsync(Timeout);
        runner.Unblock();
        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal(OptimizationPipeline.StagesFor(trainFirst: true), runner.Calls.ToArray());
        Assert.Equal(1, job.Attempts);
    }

    [Fact]
    public async Task A_duplicate_dispatch_of_a_finished_job_changes_nothing()
    {
        var job = await client.SubmitAsync(Request);
        job = await client.WaitForFinishAsync(job.Id, Timeout);
        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        var calls = runner.Calls.Count;

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<JobDispatcher>().Enqueue(job.Id, "cpu");
        }
        await NewRunner().RunAsync(job.Id, CancellationToken.None);
        await Task.Delay(2000); // the duplicate Hangfire job is picked up within its 1 s poll

        var after = await client.GetJobAsync(job.Id);
        Assert.Equal(JobStatus.Succeeded, after.Status);
        Assert.Equal(calls, runner.Calls.Count);
        Assert.Equal(job.Attempts, after.Attempts);
        Assert.Equal(job.FinishedAt, after.FinishedAt);
    }

    [Fact]
    public async Task A_cancel_racing_a_claim_has_exactly_one_winner()
    {
        var states = factory.Services.GetRequiredService<JobStateMachine>();
        var outcomes = new List<(bool Claimed, bool Cancelled, JobStatus Status)>();
        for (var i = 0; i < 40; i++)
        {
            // Rows that no relay dispatches: only the two racers touch them.
            var id = await InsertQueuedJobAsync(dispatchPending: false);
            var claim = Task.Run(() => states.ClaimAsync(id, Guid.NewGuid(), "racer", DateTime.UtcNow.AddMinutes(-1), CancellationToken.None));
            var cancel = Task.Run(() => states.CancelQueuedAsync(id, "Cancelled on request before it started.", CancellationToken.None));
            var (claimed, cancelled) = (await claim, await cancel);
            outcomes.Add((claimed, cancelled, await StatusAsync(id)));
        }

        Assert.All(outcomes, o => Assert.True(o.Claimed ^ o.Cancelled, $"claimed {o.Claimed}, cancelled {o.Cancelled}"));
        Assert.All(outcomes, o => Assert.Equal(o.Claimed ? JobStatus.Running : JobStatus.Cancelled, o.Status));
    }

    [Fact]
    public async Task A_retry_whose_dispatch_fails_stays_queued_and_runs_once_hangfire_is_back()
    {
        runner.RejectInputAt = PipelineStage.EvaluateFp32;
        var job = await client.SubmitAsync(Request);
        job = await client.WaitForFinishAsync(job.Id, Timeout);
        Assert.Equal(JobStatus.Failed, job.Status);
        runner.Reset();

        hangfire.Down = true;
        var retry = await client.PostAsync($"/api/jobs/{job.Id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        await WaitUntilAsync(() => hangfire.Refused > 0);
        await Task.Delay(1500); // more relay passes fail meanwhile

        Assert.Equal(JobStatus.Queued, (await client.GetJobAsync(job.Id)).Status);
        Assert.True(await DispatchPendingAsync(job.Id));
        Assert.Empty(runner.Calls);

        hangfire.Down = false;
        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal([PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile], runner.Calls.ToArray());
        Assert.False(await DispatchPendingAsync(job.Id));
    }

    [Fact]
    public async Task A_submission_while_hangfire_is_down_is_accepted_and_runs_when_it_is_back()
    {
        hangfire.Down = true;
        var job = await client.SubmitAsync(Request);
        await WaitUntilAsync(() => hangfire.Refused > 0);

        Assert.Equal(JobStatus.Queued, (await client.GetJobAsync(job.Id)).Status);
        hangfire.Down = false;
        job = await client.WaitForFinishAsync(job.Id, Timeout);

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
    }

    private OptimizationJobRunner NewRunner() => ActivatorUtilities.CreateInstance<OptimizationJobRunner>(factory.Services);

    private async Task<Guid> InsertQueuedJobAsync(bool dispatchPending)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var job = scope.ServiceProvider.GetRequiredService<JobStateMachine>().Submit(new OptimizationJob
        {
            Id = Guid.CreateVersion7(),
            Model = "resnet20",
            Dataset = "synthetic",
            Spec = new JobSpec { Training = new ModelOpt.Engine.Pipeline.TrainingOptions { TrainSubset = 64 } },
            TrainFirst = true,
            Device = "cpu",
            Queue = "cpu",
            CreatedAt = DateTime.UtcNow,
        });
        job.DispatchPending = dispatchPending;
        context.Jobs.Add(job);
        await context.SaveChangesAsync();
        return job.Id;
    }

    private async Task<JobStatus> StatusAsync(Guid id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Jobs.Where(j => j.Id == id).Select(j => j.Status).SingleAsync();
    }

    private async Task<bool> DispatchPendingAsync(Guid id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Jobs.Where(j => j.Id == id).Select(j => j.DispatchPending).SingleAsync();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(100);
        }
    }
}

using Hangfire;
using ModelOpt.Jobs.Execution;

namespace ModelOpt.Jobs.Dispatch;

/// <summary>Hands job ids to Hangfire on the job's device queue. Only the id travels; the runner loads everything else.</summary>
public sealed class JobDispatcher(IBackgroundJobClient client)
{
    public string Enqueue(Guid jobId, string queue) =>
        client.Enqueue<OptimizationJobRunner>(queue, runner => runner.RunAsync(jobId, CancellationToken.None));

    /// <summary>Removes a job that has not started yet from its queue (best effort: the row's status is what counts).</summary>
    public void TryDelete(string? hangfireJobId)
    {
        if (hangfireJobId is not null)
        {
            client.Delete(hangfireJobId);
        }
    }
}

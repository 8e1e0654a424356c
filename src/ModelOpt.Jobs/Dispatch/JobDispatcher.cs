using System.Reflection;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using ModelOpt.Jobs.Execution;

namespace ModelOpt.Jobs.Dispatch;

/// <summary>Hands job ids to Hangfire on the job's device queue. Only the id travels; the runner loads everything else.</summary>
public sealed class JobDispatcher(IBackgroundJobClient client)
{
    // The job is built from the method itself: Hangfire's expression overloads parse and evaluate a lambda on every call.
    private static readonly MethodInfo RunAsync = typeof(OptimizationJobRunner).GetMethod(nameof(OptimizationJobRunner.RunAsync))!;

    public string Enqueue(Guid jobId, string queue) =>
        client.Create(new Job(typeof(OptimizationJobRunner), RunAsync, [jobId, CancellationToken.None], queue), new EnqueuedState(queue));

    /// <summary>Removes a job that has not started yet from its queue (best effort: the row's status is what counts).</summary>
    public void TryDelete(string? hangfireJobId)
    {
        if (hangfireJobId is not null)
        {
            client.Delete(hangfireJobId);
        }
    }
}

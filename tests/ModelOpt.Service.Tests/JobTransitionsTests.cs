using ModelOpt.Jobs.Lifecycle;

namespace ModelOpt.Service.Tests;

/// <summary>The transition table: what the state machine's guards read, and what docs/job-states.md shows.</summary>
public sealed class JobTransitionsTests
{
    private static readonly string Document = Path.Combine(RepositoryPaths.Root, "docs", "job-states.md");

    [Fact]
    public void The_documented_diagram_is_the_table()
    {
        var mermaid = JobTransitions.ToMermaid();
        if (Environment.GetEnvironmentVariable("MODELOPT_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(Document, DocumentText(mermaid));
        }

        Assert.Equal(DocumentText(mermaid), File.ReadAllText(Document));
    }

    [Fact]
    public void Every_status_is_reachable_and_only_a_retry_leaves_a_finished_one()
    {
        var reachable = JobTransitions.All.Select(t => t.To).Append(JobTransitions.Initial).ToHashSet();
        Assert.Equal(Enum.GetValues<JobStatus>().ToHashSet(), reachable);

        var leavingFinished = JobTransitions.All.Where(t => t.From.Any(s => s.IsFinished())).Select(t => t.Trigger);
        Assert.Equal([JobTrigger.Retry], leavingFinished);
    }

    [Fact]
    public void Every_trigger_has_one_transition()
    {
        Assert.Equal(Enum.GetValues<JobTrigger>().Where(t => t != JobTrigger.Submit), JobTransitions.All.Select(t => t.Trigger));
    }

    private static string DocumentText(string mermaid) => $$"""
        # Job states

        A job's status changes only through `JobStateMachine` (`src/ModelOpt.Jobs/Lifecycle/`); every change is one
        conditional update guarded by this table (`JobTransitions`), from which this diagram is generated
        (`MODELOPT_UPDATE_DOCS=1 dotnet test tests/ModelOpt.Service.Tests --filter JobTransitionsTests` rewrites it).

        ```mermaid
        {{mermaid.TrimEnd()}}
        ```

        - **Submit** writes the row `Queued` with `DispatchPending`; the dispatch relay (`JobDispatchRelay`, an outbox)
          hands it to Hangfire and clears the mark. `Release`, `RequeueOrphan` and `Retry` set the mark again in the same
          update; `RetryAutomatically` leaves the next attempt to Hangfire's own retry.
        - **Claim** and **TakeOver** set a new execution id; every later transition of that run (`Succeed`, `Fail`,
          `CancelRunning`, `RetryAutomatically`, `Release`) matches it, so a run that lost the job cannot finish it.
        - A cancel request on a `Running` job only sets its flag; the run sees it at its next heartbeat and ends with
          `CancelRunning`. A `Queued` job is cancelled at once (`CancelQueued`).
        - `RequeueOrphan` matches the heartbeat the sweeper read, so of two sweepers only one re-queues the job.

        """;
}

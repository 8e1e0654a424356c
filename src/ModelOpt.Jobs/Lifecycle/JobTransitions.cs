using System.Text;

namespace ModelOpt.Jobs.Lifecycle;

/// <summary>
/// The job state machine as data: every trigger with the statuses it leaves and the status it enters. The guards of
/// <see cref="JobStateMachine"/>'s updates are read from this table, and docs/job-states.md is rendered from it.
/// </summary>
public static class JobTransitions
{
    public sealed record Transition(JobTrigger Trigger, IReadOnlyList<JobStatus> From, JobStatus To);

    public static IReadOnlyList<Transition> All { get; } =
    [
        new(JobTrigger.Claim, [JobStatus.Queued], JobStatus.Running),
        new(JobTrigger.TakeOver, [JobStatus.Running], JobStatus.Running),
        new(JobTrigger.CancelQueued, [JobStatus.Queued], JobStatus.Cancelled),
        new(JobTrigger.Succeed, [JobStatus.Running], JobStatus.Succeeded),
        new(JobTrigger.Fail, [JobStatus.Running], JobStatus.Failed),
        new(JobTrigger.CancelRunning, [JobStatus.Running], JobStatus.Cancelled),
        new(JobTrigger.RetryAutomatically, [JobStatus.Running], JobStatus.Queued),
        new(JobTrigger.Release, [JobStatus.Running], JobStatus.Queued),
        new(JobTrigger.RequeueOrphan, [JobStatus.Running], JobStatus.Queued),
        new(JobTrigger.Retry, [JobStatus.Failed, JobStatus.Cancelled], JobStatus.Queued),
    ];

    /// <summary>The status a new job starts in.</summary>
    public const JobStatus Initial = JobStatus.Queued;

    public static Transition Of(JobTrigger trigger) =>
        trigger == JobTrigger.Submit ? new(trigger, [], Initial) : All.Single(t => t.Trigger == trigger);

    /// <summary>The statuses <paramref name="trigger"/> may leave, as an array EF translates to <c>IN (...)</c>.</summary>
    public static JobStatus[] From(JobTrigger trigger) => [.. Of(trigger).From];

    public static JobStatus To(JobTrigger trigger) => Of(trigger).To;

    /// <summary>The table as a Mermaid state diagram (docs/job-states.md shows it).</summary>
    public static string ToMermaid()
    {
        var text = new StringBuilder("stateDiagram-v2\n");
        text.Append($"    [*] --> {Initial}: {JobTrigger.Submit}\n");
        foreach (var transition in All)
        {
            foreach (var from in transition.From)
            {
                text.Append($"    {from} --> {transition.To}: {transition.Trigger}\n");
            }
        }
        foreach (var finished in Enum.GetValues<JobStatus>().Where(s => s.IsFinished()))
        {
            text.Append($"    {finished} --> [*]\n");
        }
        return text.ToString();
    }
}

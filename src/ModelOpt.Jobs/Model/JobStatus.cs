namespace ModelOpt.Jobs.Model;

public enum JobStatus
{
    /// <summary>Waiting for a worker of its device (also between automatic retries).</summary>
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

public static class JobStatusExtensions
{
    public static bool IsFinished(this JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}

namespace ModelOpt.Jobs.Options;

/// <summary>What the API does with a job for a device no live worker serves.</summary>
public enum JobsWithoutWorker
{
    /// <summary>202 with a warning; the job waits on its queue until a worker of that device connects.</summary>
    Accept,

    /// <summary>409 problem details; nothing is created.</summary>
    Refuse,
}

/// <summary><c>ModelOpt:Jobs</c>: how the API accepts jobs.</summary>
public sealed class JobsOptions
{
    public const string Section = "ModelOpt:Jobs";

    [Setting("a job for a device no live worker serves: `Accept` (202 with `warnings`; it waits) or `Refuse` (409)", Essential = true)]
    public JobsWithoutWorker WithoutWorker { get; set; } = JobsWithoutWorker.Accept;
}

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

    public JobsWithoutWorker WithoutWorker { get; set; } = JobsWithoutWorker.Accept;
}

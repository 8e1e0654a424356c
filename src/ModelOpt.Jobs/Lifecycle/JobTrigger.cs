namespace ModelOpt.Jobs.Lifecycle;

/// <summary>What moves a job from one status to another; each is one guarded update in <see cref="JobStateMachine"/>.</summary>
public enum JobTrigger
{
    /// <summary>The API accepts the job.</summary>
    Submit,

    /// <summary>A run takes a queued job.</summary>
    Claim,

    /// <summary>A run takes a running job whose owner stopped beating (a killed worker; a duplicate dispatch finds a live one and leaves it).</summary>
    TakeOver,

    /// <summary>A cancel request for a job no run has started.</summary>
    CancelQueued,

    /// <summary>The owning run finished its last stage.</summary>
    Succeed,

    /// <summary>An input error, or a failure with no attempts left.</summary>
    Fail,

    /// <summary>The owning run stopped on a cancel request.</summary>
    CancelRunning,

    /// <summary>A failure with attempts left: Hangfire runs the job again after its retry delay.</summary>
    RetryAutomatically,

    /// <summary>The worker shuts down gracefully; the job resumes from its last completed stage on any worker.</summary>
    Release,

    /// <summary>A sweeper finds a running job without a heartbeat for the timeout.</summary>
    RequeueOrphan,

    /// <summary>A user retries a failed or cancelled job; it resumes from its last completed stage.</summary>
    Retry,
}

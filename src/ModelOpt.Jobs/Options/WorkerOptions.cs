using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Worker</c>: the job-running component, in the Worker host or embedded in the API.</summary>
public sealed class WorkerOptions : IValidatableObject
{
    public const string Section = "ModelOpt:Worker";

    /// <summary>The API hosts one worker in-process (the zero-setup default). Set false when separate workers run.</summary>
    public bool Embedded { get; set; } = true;

    /// <summary>The device this worker runs models on (<c>cpu</c>, <c>cuda:0</c>); it listens on that device's queue.</summary>
    [Required, RegularExpression("^(cpu|cuda(:[0-9]+)?)$", ErrorMessage = "Device must be 'cpu', 'cuda' or 'cuda:N'.")]
    public string Device { get; set; } = "cpu";

    /// <summary>How often a running job checks its cancel flag and writes its heartbeat and progress.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A Running job whose heartbeat is older than this is orphaned (its worker died) and is re-enqueued.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often each worker looks for orphaned jobs (also once at start).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan OrphanSweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// LibTorch's (and ONNX Runtime's) intra-op threads for this worker's jobs; null keeps one per core. Set it below the
    /// core count on a host shared with other work: a parallel region waits for whichever thread the others descheduled
    /// (docs/BENCHMARKS.md measured 2 threads 5x slower than 1 on 2 busy cores). Latencies are recorded with the count.
    /// </summary>
    [Range(1, 1024)]
    public int? Threads { get; set; }

    /// <summary>How this worker reaches the artifact store: the shared folder (default) or the API (<see cref="ApiUrl"/>, <see cref="ApiKey"/>).</summary>
    public ArtifactAccess Artifacts { get; set; } = ArtifactAccess.SharedFolder;

    /// <summary>The API's base URL (e.g. <c>http://api:8080</c>), with <see cref="ArtifactAccess.Api"/>.</summary>
    public Uri? ApiUrl { get; set; }

    /// <summary>An API key of scope <c>worker</c> (or admin), with <see cref="ArtifactAccess.Api"/>.</summary>
    public string? ApiKey { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Artifacts == ArtifactAccess.Api && ApiUrl is not { IsAbsoluteUri: true })
        {
            yield return new ValidationResult("ModelOpt:Worker:Artifacts is Api: ModelOpt:Worker:ApiUrl must be the API's absolute URL.", [nameof(ApiUrl)]);
        }
        if (Artifacts == ArtifactAccess.Api && string.IsNullOrWhiteSpace(ApiKey))
        {
            yield return new ValidationResult("ModelOpt:Worker:Artifacts is Api: ModelOpt:Worker:ApiKey must be a key of scope worker.", [nameof(ApiKey)]);
        }
    }

    /// <summary>Hangfire queue of a device: queue names allow lowercase letters, digits, '_' and '-'.</summary>
    public static string QueueFor(string device) => device.Trim().ToLowerInvariant().Replace(':', '_');

    public string Queue => QueueFor(Device);
}

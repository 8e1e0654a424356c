using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Worker</c>: the job-running component, in the Worker host or embedded in the API.</summary>
public sealed class WorkerOptions : IValidatableObject
{
    public const string Section = "ModelOpt:Worker";

    [Setting("the API hosts one worker; set `false` when workers run separately", Essential = true)]
    public bool Embedded { get; set; } = true;

    [Setting("`cpu`, `cuda`, `cuda:N`; a worker serves the Hangfire queue of its device (`cuda:0` → `cuda_0`)", Essential = true)]
    [Required, RegularExpression("^(cpu|cuda(:[0-9]+)?)$", ErrorMessage = "Device must be 'cpu', 'cuda' or 'cuda:N'.")]
    public string Device { get; set; } = "cpu";

    [Setting("how often a running job checks its cancel flag and writes its heartbeat and progress")]
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Setting("a Running job without a heartbeat for this long is orphaned (its worker died) and re-enqueued")]
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(60);

    [Setting("how often each worker looks for orphaned jobs (also once at start)")]
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan OrphanSweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    [Setting("LibTorch's and ONNX Runtime's intra-op threads for the worker's jobs; lower it on a host shared with other work (a parallel region waits for whichever thread the others descheduled)", Default = "one per core", Essential = true)]
    [Range(1, 1024)]
    public int? Threads { get; set; }

    [Setting("`SharedFolder` (the store's folder is mounted on the worker) or `Api` (inputs downloaded from and artifacts uploaded to the API; ADR-012)", Essential = true)]
    public ArtifactAccess Artifacts { get; set; } = ArtifactAccess.SharedFolder;

    [Setting("with `Artifacts: Api`: the API's absolute base URL (e.g. `http://api:8080`)")]
    public Uri? ApiUrl { get; set; }

    [Setting("with `Artifacts: Api`: an API key of scope `worker` (or admin)")]
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

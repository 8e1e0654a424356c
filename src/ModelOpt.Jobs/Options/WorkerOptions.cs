using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Worker</c>: the job-running component, in the Worker host or embedded in the API.</summary>
public sealed class WorkerOptions
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

    /// <summary>Hangfire queue of a device: queue names allow lowercase letters, digits, '_' and '-'.</summary>
    public static string QueueFor(string device) => device.Trim().ToLowerInvariant().Replace(':', '_');

    public string Queue => QueueFor(Device);
}

using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Dispatch</c>: the relay that hands queued jobs to Hangfire (see <c>JobDispatchRelay</c>).</summary>
public sealed class DispatchOptions
{
    public const string Section = "ModelOpt:Dispatch";

    /// <summary>How often the relay looks for jobs marked by another process (this process's own wake it at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Jobs read per query; a full batch is followed by another at once.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;
}

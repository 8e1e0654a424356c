using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Dispatch</c>: the relay that hands queued jobs to Hangfire (see <c>JobDispatchRelay</c>).</summary>
public sealed class DispatchOptions
{
    public const string Section = "ModelOpt:Dispatch";

    [Setting("how often the relay that hands queued jobs to Hangfire looks for jobs another process marked (this process's own wake it at once)")]
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Setting("jobs the relay reads per query; a full batch is followed by another at once")]
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;
}

using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Workers</c>: the worker registry's heartbeat, read by every worker and by the API.</summary>
public sealed class WorkerRegistryOptions : IValidatableObject
{
    public const string Section = "ModelOpt:Workers";

    [Setting("how often a worker writes its registry row (heartbeat, current job)", Essential = true)]
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Setting("a worker without a heartbeat for this long is `Lost`: it serves no job, and jobs for its device get the no-worker warning; must exceed twice the interval", Essential = true)]
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan LostAfter { get; set; } = TimeSpan.FromSeconds(45);

    [Setting("how long `GET /api/workers` keeps listing lost and stopped workers")]
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan ListStoppedFor { get; set; } = TimeSpan.FromHours(24);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LostAfter <= HeartbeatInterval * 2)
        {
            yield return new ValidationResult(
                $"ModelOpt:Workers:LostAfter ({LostAfter}) must exceed twice HeartbeatInterval ({HeartbeatInterval}), or a live worker looks lost.",
                [nameof(LostAfter)]);
        }
    }
}

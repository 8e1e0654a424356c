using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Workers</c>: the worker registry's heartbeat, read by every worker and by the API.</summary>
public sealed class WorkerRegistryOptions : IValidatableObject
{
    public const string Section = "ModelOpt:Workers";

    /// <summary>How often a worker writes its heartbeat and current job to its registry row.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A worker whose heartbeat is older than this is lost: it serves no job, and jobs for its device get the no-worker warning.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan LostAfter { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How long GET /api/workers keeps listing a lost or stopped worker.</summary>
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

namespace ModelOpt.Api.Infrastructure;

/// <summary>The rule that a resource a queued or running job needs cannot be deleted under it.</summary>
public static class ActiveJobs
{
    /// <summary>Throws a <see cref="ConflictException"/> listing the queued or running jobs among <paramref name="users"/>.</summary>
    public static async Task RefuseWhileUsedAsync(IQueryable<OptimizationJob> users, string resource, CancellationToken cancellationToken)
    {
        var active = await users.Where(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running)
            .Select(j => j.Id).ToListAsync(cancellationToken);
        if (active.Count > 0)
        {
            throw new ConflictException($"{resource} is used by {active.Count} queued or running job(s): {string.Join(", ", active)}.");
        }
    }
}

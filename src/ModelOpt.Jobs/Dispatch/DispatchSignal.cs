namespace ModelOpt.Jobs.Dispatch;

/// <summary>
/// Wakes this process's <see cref="JobDispatchRelay"/> when it has just marked a job for dispatch, so a submission is
/// handed to Hangfire at once instead of at the relay's next poll. Many signals while the relay works cost one more pass.
/// </summary>
public sealed class DispatchSignal
{
    private readonly SemaphoreSlim pending = new(0, 1);

    public void Notify()
    {
        try
        {
            pending.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the relay's next pass takes this job too.
        }
    }

    /// <summary>Waits for a signal or the poll interval, whichever comes first.</summary>
    public Task WaitAsync(TimeSpan pollInterval, CancellationToken cancellationToken) => pending.WaitAsync(pollInterval, cancellationToken);
}

namespace ModelOpt.ServiceBench;

/// <summary>A process's resident set (<c>VmRSS</c>) and its lifetime peak (<c>VmHWM</c>) from <c>/proc/PID/status</c>, in bytes.</summary>
public readonly record struct MemorySnapshot(long RssBytes, long HwmBytes)
{
    public static MemorySnapshot Read(int pid)
    {
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = Kilobytes(line);
            }
        }
        return new MemorySnapshot(rss, hwm);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
}

/// <summary>Polls a process's RSS every few milliseconds and keeps the highest value seen (the peak of one request).</summary>
public sealed class RssPeakSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peak;

    public RssPeakSampler(int pid, TimeSpan interval)
    {
        _peak = MemorySnapshot.Read(pid).RssBytes;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, MemorySnapshot.Read(pid).RssBytes);
                try
                {
                    await Task.Delay(interval, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
    }

    public long PeakBytes => Interlocked.Read(ref _peak);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}

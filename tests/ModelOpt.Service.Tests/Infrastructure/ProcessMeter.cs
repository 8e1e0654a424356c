namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>A Linux process's resident memory (now and at its peak) and CPU time, read from <c>/proc/{pid}</c>.</summary>
public sealed record ProcessMeter(int ProcessId)
{
    // USER_HZ, the unit of utime and stime in /proc/{pid}/stat: 100 on every Linux the project runs on (x86-64, arm64).
    private const double TicksPerSecond = 100;

    public long ResidentBytes => StatusKilobytes("VmRSS") * 1024;

    /// <summary>The peak resident memory since the process started or since <see cref="ResetPeak"/>.</summary>
    public long PeakResidentBytes => StatusKilobytes("VmHWM") * 1024;

    /// <summary>User plus system CPU seconds the process has used.</summary>
    public double CpuSeconds
    {
        get
        {
            // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
            var stat = File.ReadAllText($"/proc/{ProcessId}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond; // fields 14 (utime) and 15 (stime)
        }
    }

    /// <summary>Starts a new peak (writing 5 to clear_refs resets VmHWM to the current VmRSS).</summary>
    public void ResetPeak() => File.WriteAllText($"/proc/{ProcessId}/clear_refs", "5");

    /// <summary>Polls until the resident memory is at most <paramref name="bytes"/> or <paramref name="bound"/> passes; returns the last reading.</summary>
    public async Task<long> WaitForResidentAtMostAsync(long bytes, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        var resident = ResidentBytes;
        while (resident > bytes && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            resident = ResidentBytes;
        }
        return resident;
    }

    private long StatusKilobytes(string field)
    {
        var line = File.ReadLines($"/proc/{ProcessId}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]);
    }
}

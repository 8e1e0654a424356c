using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ModelOpt.Jobs.Options;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Infrastructure;

public sealed class DatabaseHealthCheck(ModelOptDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var jobs = await db.Jobs.CountAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{db.Database.ProviderName}: {jobs} jobs");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The application database cannot be queried.", e);
        }
    }
}

public sealed class HangfireHealthCheck(JobStorage storage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var monitoring = storage.GetMonitoringApi();
            var servers = monitoring.Servers();
            var queues = servers.SelectMany(s => s.Queues).Distinct().Order().ToList();
            var data = new Dictionary<string, object> { ["servers"] = servers.Count, ["queues"] = queues };
            return Task.FromResult(servers.Count == 0
                ? HealthCheckResult.Degraded("Hangfire storage is reachable but no worker server is running: jobs will wait.", data: data)
                : HealthCheckResult.Healthy($"{servers.Count} worker server(s) on queues {string.Join(", ", queues)}", data));
        }
        catch (Exception e)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Hangfire storage cannot be reached.", e));
        }
    }
}

public sealed class ArtifactStoreHealthCheck(ArtifactStore store, IOptions<StorageOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!store.CanWrite())
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The artifact store cannot be written."));
        }
        var free = new DriveInfo(store.Root).AvailableFreeSpace;
        var data = new Dictionary<string, object> { ["freeBytes"] = free, ["minFreeBytes"] = options.Value.MinFreeBytes };
        return Task.FromResult(free < options.Value.MinFreeBytes
            ? HealthCheckResult.Degraded(
                $"The artifact store's disk has {free} bytes free, below {StorageOptions.Section}:MinFreeBytes: uploads and stages may fail (507).", data: data)
            : HealthCheckResult.Healthy("The artifact store is writable.", data));
    }
}

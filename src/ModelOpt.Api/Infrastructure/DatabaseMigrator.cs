using ModelOpt.Jobs.Extensions;

namespace ModelOpt.Api.Infrastructure;

/// <summary>
/// Applies pending migrations before anything else starts (registered first, and hosted services start in order),
/// so the embedded worker never sees an old schema. REVIEW: with several API replicas, run migrations as a deployment step.
/// </summary>
public sealed class DatabaseMigrator(IServiceProvider services, ILogger<DatabaseMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await services.MigrateModelOptDatabaseAsync(cancellationToken);
        logger.LogInformation("Database migrated");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

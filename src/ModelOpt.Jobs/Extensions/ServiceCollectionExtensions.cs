using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Dispatch;
using ModelOpt.Jobs.Execution;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Lifecycle;
using ModelOpt.Jobs.Options;
using ModelOpt.Jobs.Workers;
using TorchSharp;

namespace ModelOpt.Jobs.Extensions;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// What the API and every worker share: validated options, the application database of the configured provider,
    /// Hangfire storage on the same provider, the artifact store, the catalogues, the job state machine and the dispatch relay.
    /// </summary>
    public static IHostApplicationBuilder AddModelOptCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ConnectionStringsOptions>().BindConfiguration(ConnectionStringsOptions.Section)
            .Validate(c => Bind<StorageOptions>(builder.Configuration, StorageOptions.Section).Provider != StorageProvider.Postgres
                           || !string.IsNullOrWhiteSpace(c.Postgres),
                "ModelOpt:Storage:Provider is Postgres but ModelOpt:ConnectionStrings:Postgres is empty.")
            .ValidateOnStart();
        services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DatasetOptions>().BindConfiguration(DatasetOptions.Section);
        services.AddOptions<DatasetUploadOptions>().BindConfiguration(DatasetUploadOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WorkerRegistryOptions>().BindConfiguration(WorkerRegistryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DispatchOptions>().BindConfiguration(DispatchOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        // The service's own work sees every team; the API replaces this with the request's key's team.
        services.TryAddScoped<ITeamScope>(_ => AllTeamsScope.Instance);
        services.AddSingleton<ArtifactStore>();
        services.AddSingleton<DatasetLocations>();
        services.AddSingleton<JobStateMachine>();
        services.AddScoped<JobDispatcher>();
        services.AddScoped<WorkerRegistry>();
        services.AddSingleton<DispatchSignal>();
        services.AddHostedService<JobDispatchRelay>();

        var storage = Bind<StorageOptions>(builder.Configuration, StorageOptions.Section);
        var connections = Bind<ConnectionStringsOptions>(builder.Configuration, ConnectionStringsOptions.Section);
        var dataRoot = storage.ResolvedDataRoot;
        switch (storage.Provider)
        {
            case StorageProvider.Postgres:
                var postgres = connections.Postgres ?? "";
                // Pooled: a request reuses a context instead of building one and its options (visible in the POST profile).
                services.AddPooledDbContextFactory<PostgresModelOptDbContext>(o => o.UseNpgsql(postgres));
                services.AddScoped<ModelOptDbContext>(LeaseContext<PostgresModelOptDbContext>);
                services.AddHangfire(config => config
                    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                    .UseSimpleAssemblyNameTypeSerializer()
                    .UseRecommendedSerializerSettings()
                    .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(postgres), new PostgreSqlStorageOptions
                    {
                        QueuePollInterval = TimeSpan.FromSeconds(1),
                        // Sliding: a long stage keeps its fetched job invisible; a dead worker's job reappears after 5 min.
                        UseSlidingInvisibilityTimeout = true,
                        InvisibilityTimeout = TimeSpan.FromMinutes(5),
                        PrepareSchemaIfNecessary = true,
                    }));
                break;
            default:
                Directory.CreateDirectory(dataRoot);
                var appDb = connections.Sqlite ?? $"Data Source={Path.Combine(dataRoot, "modelopt.db")}";
                var hangfireDb = connections.HangfireSqlite ?? Path.Combine(dataRoot, "hangfire.db");
                services.AddPooledDbContextFactory<SqliteModelOptDbContext>(o => o.UseSqlite(appDb));
                services.AddScoped<ModelOptDbContext>(LeaseContext<SqliteModelOptDbContext>);
                services.AddHangfire(config => config
                    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                    .UseSimpleAssemblyNameTypeSerializer()
                    .UseRecommendedSerializerSettings()
                    .UseSQLiteStorage(hangfireDb, new SQLiteStorageOptions
                    {
                        // The default 15 s poll makes a fresh job wait visibly, and 1 s still showed in a whole job's time
                        // (docs/BENCHMARKS.md, issue 28). An idle worker's poll of a local file costs little, and
                        // a busy one (one Hangfire worker) does not poll.
                        QueuePollInterval = TimeSpan.FromMilliseconds(200),
                    }));
                break;
        }
        return builder;
    }

    /// <summary>
    /// The job-running component: a Hangfire server with one worker on this device's queue, the job runner, the engine's
    /// pipeline, the orphaned-job sweeper, the worker's registry row and its way to the artifact store (shared folder or API). Hosted by ModelOpt.Worker, or by the API in its embedded mode.
    /// </summary>
    public static IHostApplicationBuilder AddModelOptWorker(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var worker = Bind<WorkerOptions>(builder.Configuration, WorkerOptions.Section);
        // Process-wide in LibTorch; set before the first job so every stage (and the registry row) sees the same count.
        if (worker.Threads is { } threads)
        {
            torch.set_num_threads(threads);
        }
        services.AddSingleton<IStageRunner, EnginePipelineStageRunner>();
        services.AddSingleton<WorkerIdentity>();
        // Registered before the Hangfire server, so the worker's row exists before it takes its first job.
        services.AddHostedService<WorkerRegistration>();
        if (worker.Artifacts == ArtifactAccess.Api)
        {
            services.AddSingleton<IArtifactTransfer, ApiArtifactTransfer>();
        }
        else
        {
            services.AddSingleton<IArtifactTransfer, SharedFolderArtifactTransfer>();
        }
        services.AddSingleton<JobRequestFactory>();
        services.AddSingleton<StageRecorder>();
        services.AddTransient<OptimizationJobRunner>();
        services.AddHostedService<OrphanedJobSweeper>();
        services.AddHangfireServer(o =>
        {
            // One model job at a time per worker: a job uses every core (or the whole GPU) by itself.
            o.WorkerCount = 1;
            o.Queues = [worker.Queue];
            o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{worker.Queue}";
            o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            o.ShutdownTimeout = TimeSpan.FromSeconds(15);
        });
        // Longer than Hangfire's own shutdown timeout, so a running stage is cancelled and released cleanly.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder;
    }

    /// <summary>Applies pending migrations of the configured provider (the API does this at start-up).</summary>
    public static async Task MigrateModelOptDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
    }

    /// <summary>
    /// A context from the pool, scoped to the resolving scope's team. A pooled context keeps what the last lease set, so
    /// every lease sets its scope again (EF Core's documented pattern for per-tenant state with pooling).
    /// </summary>
    private static ModelOptDbContext LeaseContext<TContext>(IServiceProvider services) where TContext : ModelOptDbContext
    {
        var db = services.GetRequiredService<IDbContextFactory<TContext>>().CreateDbContext();
        db.TeamScope = services.GetRequiredService<ITeamScope>();
        return db;
    }

    private static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        var value = new T();
        configuration.GetSection(section).Bind(value);
        return value;
    }
}

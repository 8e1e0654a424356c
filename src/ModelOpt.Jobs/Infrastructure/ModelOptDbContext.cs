using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using ModelOpt.Jobs.Infrastructure.EntityConfigurations;

namespace ModelOpt.Jobs.Infrastructure;

/// <summary>
/// The application database. Migrations are provider-specific, so each provider has its own context subclass and
/// migration folder; the model itself is defined once, here.
/// </summary>
/// <remarks>
/// dotnet ef migrations add NAME --project src/ModelOpt.Jobs --startup-project src/ModelOpt.Api --context PostgresModelOptDbContext --output-dir Infrastructure/Migrations/Postgres
/// dotnet ef migrations add NAME --project src/ModelOpt.Jobs --startup-project src/ModelOpt.Api --context SqliteModelOptDbContext --output-dir Infrastructure/Migrations/Sqlite
/// </remarks>
public abstract class ModelOptDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<OptimizationJob> Jobs => Set<OptimizationJob>();
    public DbSet<JobStage> JobStages => Set<JobStage>();
    public DbSet<StageResult> StageResults => Set<StageResult>();
    public DbSet<JobArtifact> JobArtifacts => Set<JobArtifact>();
    public DbSet<Checkpoint> Checkpoints => Set<Checkpoint>();
    public DbSet<UploadedDataset> Datasets => Set<UploadedDataset>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<JobLayer> JobLayers => Set<JobLayer>();
    public DbSet<RegisteredWorker> Workers => Set<RegisteredWorker>();
    public DbSet<Team> Teams => Set<Team>();

    /// <summary>The name of the query filter that hides other teams' rows; <c>IgnoreQueryFilters([TeamFilter])</c> lifts it.</summary>
    public const string TeamFilter = "Team";

    /// <summary>Whose rows this context sees and who owns what it adds; set on every lease from the pool (the service's own work sees every team).</summary>
    public ITeamScope TeamScope { get; set; } = AllTeamsScope.Instance;

    /// <summary>Read by the query filters at each query; null while the scope sees every team.</summary>
    public Guid? VisibleTeamId => TeamScope.VisibleTeamId;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC; SQLite hands back Unspecified, which would serialize without its 'Z'.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new OptimizationJobEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new JobStageEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new StageResultEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new JobArtifactEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new CheckpointEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new UploadedDatasetEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new ApiKeyEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new JobLayerEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new RegisteredWorkerEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new TeamEntityTypeConfiguration());
        ApplyTeamFilters(modelBuilder);
    }

    /// <summary>
    /// Tenancy in one place (ADR-024): every query on a team's rows, and on a job's stages, results, layers and artifacts
    /// through their job, sees only <see cref="VisibleTeamId"/>'s rows, so an endpoint or page that looks a row up by id
    /// finds nothing (404) for another team's. The filters live here because they read this context's scope.
    /// </summary>
    private void ApplyTeamFilters(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Checkpoint>().HasQueryFilter(TeamFilter, c => VisibleTeamId == null || c.TeamId == VisibleTeamId);
        modelBuilder.Entity<UploadedDataset>().HasQueryFilter(TeamFilter, d => VisibleTeamId == null || d.TeamId == VisibleTeamId);
        modelBuilder.Entity<OptimizationJob>().HasQueryFilter(TeamFilter, j => VisibleTeamId == null || j.TeamId == VisibleTeamId);
        modelBuilder.Entity<JobStage>().HasQueryFilter(TeamFilter, s => VisibleTeamId == null || Jobs.Any(j => j.Id == s.JobId));
        modelBuilder.Entity<StageResult>().HasQueryFilter(TeamFilter, r => VisibleTeamId == null || Jobs.Any(j => j.Id == r.JobId));
        modelBuilder.Entity<JobArtifact>().HasQueryFilter(TeamFilter, a => VisibleTeamId == null || Jobs.Any(j => j.Id == a.JobId));
        modelBuilder.Entity<JobLayer>().HasQueryFilter(TeamFilter, l => VisibleTeamId == null || Jobs.Any(j => j.Id == l.JobId));
    }

    /// <summary>A key, checkpoint, dataset or job added without a team belongs to the scope's owner (the caller's team).</summary>
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        StampOwners();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        StampOwners();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    private void StampOwners()
    {
        foreach (var entry in ChangeTracker.Entries<ITeamOwned>())
        {
            if (entry.State == EntityState.Added && entry.Entity.TeamId == Guid.Empty)
            {
                entry.Entity.TeamId = TeamScope.OwnerTeamId;
            }
        }
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

public sealed class PostgresModelOptDbContext(DbContextOptions<PostgresModelOptDbContext> options) : ModelOptDbContext(options);

public sealed class SqliteModelOptDbContext(DbContextOptions<SqliteModelOptDbContext> options) : ModelOptDbContext(options);

/// <summary>Lets <c>dotnet ef</c> build the PostgreSQL model without a running database.</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresModelOptDbContext>
{
    public PostgresModelOptDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresModelOptDbContext>().UseNpgsql("Host=localhost;Database=modelopt_design").Options);
}

/// <summary>Lets <c>dotnet ef</c> build the SQLite model.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteModelOptDbContext>
{
    public SqliteModelOptDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteModelOptDbContext>().UseSqlite("Data Source=modelopt_design.db").Options);
}

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

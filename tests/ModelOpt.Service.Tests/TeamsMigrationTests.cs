using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The Teams migration on both providers: a database at the migration before it, holding a key and a checkpoint, is
/// migrated; both then belong to the default team, which the migration created with its fixed id.
/// </summary>
public sealed class TeamsMigrationTests
{
    private const string MigrationBeforeTeams = "DatasetLabeled";

    [Fact]
    public async Task On_postgresql_existing_keys_and_checkpoints_join_the_default_team()
    {
        await using var database = await TestPostgres.CreateAsync();
        await using var db = new PostgresModelOptDbContext(
            new DbContextOptionsBuilder<PostgresModelOptDbContext>().UseNpgsql(database.ConnectionString).Options);
        await AssertExistingRowsJoinTheDefaultTeamAsync(db, id => id);
    }

    [Fact]
    public async Task On_sqlite_existing_keys_and_checkpoints_join_the_default_team()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("modelopt-migration-").FullName, "modelopt.db");
        try
        {
            await using var db = new SqliteModelOptDbContext(
                new DbContextOptionsBuilder<SqliteModelOptDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options);
            // EF Core's SQLite provider stores a Guid as upper-case text.
            await AssertExistingRowsJoinTheDefaultTeamAsync(db, id => id.ToString().ToUpperInvariant());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    private static async Task AssertExistingRowsJoinTheDefaultTeamAsync(ModelOptDbContext db, Func<Guid, object> stored)
    {
        await db.GetService<IMigrator>().MigrateAsync(MigrationBeforeTeams);
        var key = stored(Guid.NewGuid());
        var checkpoint = stored(Guid.NewGuid());
        var hash = new string('a', 64);
        var now = DateTime.UtcNow;
        await db.Database.ExecuteSqlAsync(
            $"""INSERT INTO api_keys ("Id", "Name", "Prefix", "Hash", "Scope", "CreatedAt") VALUES ({key}, 'old', 'mo_old', {hash}, 'Admin', {now})""");
        await db.Database.ExecuteSqlAsync(
            $"""INSERT INTO checkpoints ("Id", "FileName", "Format", "SizeBytes", "Sha256", "RelativePath", "CreatedAt") VALUES ({checkpoint}, 'old.pth', 'PyTorch', 1, {hash}, 'checkpoints/old.pth', {now})""");

        await db.Database.MigrateAsync();

        Assert.Equal(Team.DefaultName, (await db.Teams.SingleAsync(t => t.Id == Team.DefaultId)).Name);
        Assert.Equal(Team.DefaultId, (await db.ApiKeys.SingleAsync()).TeamId);
        Assert.Equal(Team.DefaultId, (await db.Checkpoints.SingleAsync()).TeamId);
    }
}

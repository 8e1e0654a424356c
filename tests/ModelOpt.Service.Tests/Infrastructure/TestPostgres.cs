using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>
/// A fresh PostgreSQL database for one test, dropped at the end. It is copied from a template the API's own start-up
/// migrated once per build of the schema (EF migrations and Hangfire's schema), so a test host starts on an
/// up-to-date schema instead of replaying every migration.
/// </summary>
public sealed class TestPostgres : IAsyncDisposable
{
    public const string DefaultConnectionString = "Host=127.0.0.1;Username=modelopt;Password=modelopt;Database=modelopt";

    private const string TemplatePrefix = "modelopt_template_";

    private static readonly SemaphoreSlim TemplateLock = new(1, 1);
    private static string? template;

    private readonly string adminConnectionString;

    private TestPostgres(string adminConnectionString, string connectionString, string database)
    {
        this.adminConnectionString = adminConnectionString;
        ConnectionString = connectionString;
        Database = database;
    }

    public string ConnectionString { get; }
    public string Database { get; }

    /// <summary>From env <c>ModelOpt__ConnectionStrings__Postgres</c> (scripts/start-postgres.sh prints it) or the default.</summary>
    public static string BaseConnectionString =>
        Environment.GetEnvironmentVariable("ModelOpt__ConnectionStrings__Postgres") is { Length: > 0 } cs ? cs : DefaultConnectionString;

    /// <summary>A database with the current schema and no rows.</summary>
    public static async Task<TestPostgres> CreateAsync() => await CreateAsync(await MigratedTemplateAsync());

    private static async Task<TestPostgres> CreateAsync(string? templateName)
    {
        var database = $"modelopt_test_{Guid.NewGuid():N}"[..30];
        var template = templateName is null ? "" : $" TEMPLATE \"{templateName}\"";
        await ExecuteAsync($"CREATE DATABASE \"{database}\"{template}");
        var builder = new NpgsqlConnectionStringBuilder(BaseConnectionString) { Database = database, Pooling = true };
        return new TestPostgres(BaseConnectionString, builder.ConnectionString, database);
    }

    /// <summary>
    /// The template for this schema, named after its EF migrations and Hangfire's storage version (so test runs of other
    /// checkouts with the same schema share it, and none drops another's): made by starting the API on an empty database
    /// (the migrator and Hangfire's installer run at start-up) and emptying Hangfire's tables but its schema version (rows a
    /// migration seeds stay), then renamed into place, so a half-made template is never used.
    /// </summary>
    private static async Task<string> MigratedTemplateAsync()
    {
        await TemplateLock.WaitAsync();
        try
        {
            if (template is not null)
            {
                return template;
            }
            var name = TemplatePrefix + SchemaFingerprint();
            if (!await ExistsAsync(name))
            {
                await using (var scratch = await CreateAsync(null))
                {
                    await using (var factory = new ServiceFactory(ServiceFactory.Postgres(scratch, embeddedWorker: false)))
                    {
                        using var client = factory.CreateAnonymousClient();
                        (await client.GetAsync("/health")).EnsureSuccessStatusCode();
                    }
                    await EmptyHangfireTablesAsync(scratch.ConnectionString);
                    NpgsqlConnection.ClearAllPools();
                    try
                    {
                        await ExecuteAsync($"ALTER DATABASE \"{scratch.Database}\" RENAME TO \"{name}\"");
                    }
                    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
                    {
                        // Another test run made the same template meanwhile; the scratch database is dropped on dispose.
                    }
                }
            }
            return template = name;
        }
        finally
        {
            TemplateLock.Release();
        }
    }

    private static string SchemaFingerprint()
    {
        var migrations = typeof(ModelOpt.Jobs.Model.OptimizationJob).Assembly.GetTypes()
            .Select(type => type.GetCustomAttribute<MigrationAttribute>()?.Id).OfType<string>().Order(StringComparer.Ordinal);
        var hangfire = typeof(Hangfire.PostgreSql.PostgreSqlStorage).Assembly.GetName().Version;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', migrations.Append($"hangfire {hangfire}"))));
        return Convert.ToHexStringLower(hash)[..16];
    }

    private static async Task EmptyHangfireTablesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            """
            SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
            WHERE schemaname = 'hangfire' AND tablename <> 'schema'
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        await using var truncate = new NpgsqlCommand($"TRUNCATE {string.Join(", ", tables)} RESTART IDENTITY CASCADE", connection);
        await truncate.ExecuteNonQueryAsync();
    }

    private static async Task<bool> ExistsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(BaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", connection);
        command.Parameters.AddWithValue("name", database);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(BaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Database}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}

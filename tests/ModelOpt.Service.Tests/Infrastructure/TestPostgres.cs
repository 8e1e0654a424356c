using Npgsql;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>A fresh PostgreSQL database for one test class, dropped at the end.</summary>
public sealed class TestPostgres : IAsyncDisposable
{
    public const string DefaultConnectionString = "Host=127.0.0.1;Username=modelopt;Password=modelopt;Database=modelopt";

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

    public static async Task<TestPostgres> CreateAsync()
    {
        var admin = BaseConnectionString;
        var database = $"modelopt_test_{Guid.NewGuid():N}"[..30];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = database, Pooling = true };
        return new TestPostgres(admin, builder.ConnectionString, database);
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

using Npgsql;

namespace ModelOpt.ServiceBench;

/// <summary>
/// A throwaway database on the given server, so the queued jobs of a run land in no one else's database (a worker on the
/// shared one would pick them up) and every run starts empty, as the SQLite run does on its fresh data root.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _adminConnection;

    private PostgresDatabase(string adminConnection, string name, string connection)
    {
        _adminConnection = adminConnection;
        Name = name;
        ConnectionString = connection;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<PostgresDatabase> CreateAsync(string serverConnection)
    {
        var name = $"modelopt_servicebench_{Guid.NewGuid():N}"[..40];
        await using (var admin = new NpgsqlConnection(serverConnection))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }
        var connection = new NpgsqlConnectionStringBuilder(serverConnection) { Database = name }.ConnectionString;
        return new PostgresDatabase(serverConnection, name, connection);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_adminConnection);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

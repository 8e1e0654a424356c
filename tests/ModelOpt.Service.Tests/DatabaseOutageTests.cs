using Npgsql;

namespace ModelOpt.Service.Tests;

/// <summary>With the database unreachable the API answers 503 problem details with Retry-After (not 500), and recovers by itself.</summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: false));
    }

    public async Task DisposeAsync()
    {
        await SetConnectionsAllowedAsync(true);
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Requests_during_an_outage_are_503_with_retry_after_and_succeed_once_it_is_over()
    {
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/jobs")).StatusCode);

        await SetConnectionsAllowedAsync(false);
        var read = await client.GetAsync("/api/jobs");
        var write = await client.PostAsJsonAsync("/api/jobs", new { model = "resnet20", dataset = "synthetic" });

        foreach (var response in new[] { read, write })
        {
            var problem = await response.ProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Contains("database cannot be reached", problem.GetProperty("detail").GetString());
            Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
        }

        await SetConnectionsAllowedAsync(true);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/jobs", new { model = "resnet20", dataset = "synthetic" })).StatusCode);
    }

    // Closes the test database to new connections and ends the open ones, as a database restart or network cut does.
    private async Task SetConnectionsAllowedAsync(bool allowed)
    {
        await using var admin = new NpgsqlConnection(TestPostgres.BaseConnectionString);
        await admin.OpenAsync();
        await using (var alter = new NpgsqlCommand($"ALTER DATABASE \"{db.Database}\" ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", admin))
        {
            await alter.ExecuteNonQueryAsync();
        }
        if (!allowed)
        {
            await using var terminate = new NpgsqlCommand($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db.Database}'", admin);
            await terminate.ExecuteNonQueryAsync();
            NpgsqlConnection.ClearAllPools();
        }
    }
}

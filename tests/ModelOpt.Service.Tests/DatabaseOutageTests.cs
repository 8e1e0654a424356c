using Npgsql;

namespace ModelOpt.Service.Tests;

/// <summary>
/// With the database unreachable the API answers 503 problem details with Retry-After (not 500) and recovers by itself;
/// a job whose stage finished during the outage is kept and resumed by the worker once the database is back.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private readonly OrchestrationTestStageRunner runner = new();
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: true), runner);
    }

    public async Task DisposeAsync()
    {
        await SetConnectionsAllowedAsync(true);
        runner.Unblock();
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

    [Fact]
    public async Task A_job_whose_stage_ends_during_an_outage_is_kept_and_finishes_after_it()
    {
        using var client = factory.CreateClient();
        runner.BlockStage = Engine.Pipeline.PipelineStage.Calibrate;
        var job = await client.SubmitAsync(new { model = "resnet20", dataset = "synthetic", training = new { trainSubset = 64 } });
        await runner.Blocked.Task.WaitAsync(TimeSpan.FromSeconds(60));

        await SetConnectionsAllowedAsync(false);
        runner.Unblock(); // Calibrate finishes while its result cannot be recorded.
        await Task.Delay(TimeSpan.FromSeconds(4));
        await SetConnectionsAllowedAsync(true);

        job = await client.WaitForFinishAsync(job.Id, TimeSpan.FromSeconds(120));
        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.All(job.Stages, s => Assert.Equal(StageState.Completed, s.State));
        Assert.Equal(2, runner.Calls.Count(s => s == Engine.Pipeline.PipelineStage.Calibrate)); // the lost one ran again
        Assert.Equal(1, runner.Calls.Count(s => s == Engine.Pipeline.PipelineStage.Train)); // completed stages were kept
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

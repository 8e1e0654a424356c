using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Model;

namespace ModelOpt.ServiceBench;

/// <summary>
/// A job submitted through the API and claimed in the database as a worker's claim would set it (running, with an
/// execution id): the API stores a worker's artifact only for such a claim. No worker runs beside the bench.
/// </summary>
public static class ClaimedJob
{
    public static async Task<(Guid JobId, Guid ExecutionId)> CreateAsync(
        HttpClient client, string dataset, BenchProvider provider, string dataRoot, string? postgres)
    {
        using var response = await client.PostAsJsonAsync("api/jobs", new { model = "resnet20", dataset });
        response.EnsureSuccessStatusCode();
        var job = await response.Content.ReadFromJsonAsync<SubmittedJob>() ?? throw new InvalidOperationException("POST /api/jobs answered no job.");
        var executionId = Guid.NewGuid();
        await using ModelOptDbContext db = provider == BenchProvider.Postgres
            ? new PostgresModelOptDbContext(new DbContextOptionsBuilder<PostgresModelOptDbContext>().UseNpgsql(postgres).Options)
            : new SqliteModelOptDbContext(new DbContextOptionsBuilder<SqliteModelOptDbContext>()
                .UseSqlite($"Data Source={Path.Combine(dataRoot, "modelopt.db")}").Options);
        await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(u => u
            .SetProperty(j => j.Status, JobStatus.Running)
            .SetProperty(j => j.ExecutionId, executionId));
        return (job.Id, executionId);
    }

    private sealed record SubmittedJob(Guid Id);
}

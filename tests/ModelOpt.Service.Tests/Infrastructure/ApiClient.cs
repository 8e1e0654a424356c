using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelOpt.Service.Tests.Infrastructure;

public static class ApiClient
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    public static async Task<JobDto> GetJobAsync(this HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<JobDto>($"/api/jobs/{id}", Json))!;

    public static async Task<JobDto> SubmitAsync(this HttpClient client, object request)
    {
        var response = await client.PostAsJsonAsync("/api/jobs", request, Json);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return await response.ReadAsync<JobDto>();
    }

    /// <summary>Polls until <paramref name="until"/> holds, failing with the last job state after <paramref name="timeout"/>.</summary>
    public static async Task<JobDto> WaitForJobAsync(this HttpClient client, Guid id, Func<JobDto, bool> until, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JobDto job;
        while (!until(job = await client.GetJobAsync(id)))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Job {id} did not reach the expected state in {timeout}: {JsonSerializer.Serialize(job, Json)}");
            }
            await Task.Delay(200);
        }
        return job;
    }

    public static Task<JobDto> WaitForFinishAsync(this HttpClient client, Guid id, TimeSpan timeout) =>
        client.WaitForJobAsync(id, j => j.Status.IsFinished(), timeout);

    /// <summary>
    /// Submits a job on the fewest calibration images and timed runs that still take it through every stage but compile,
    /// and waits for its end: for tests of what a job accepts and reports, not of its figures. A null field is left to
    /// the server's default.
    /// </summary>
    public static async Task<JobDto> RunSmallJobAsync(this HttpClient client, Guid checkpointId, Guid datasetId, object preprocessing,
        string? task = null, string? model = null)
    {
        var job = await client.SubmitAsync(new
        {
            model,
            dataset = datasetId.ToString(),
            checkpointId,
            preprocessing,
            output = new { task },
            quantization = new { calibrationImages = 16, calibrationBatchSize = 8 },
            evaluation = new { latencyBatchSize = 4, warmupRuns = 1, timedRuns = 2 },
            compile = new { enabled = false },
        });
        return await client.WaitForFinishAsync(job.Id, TimeSpan.FromMinutes(5));
    }

    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {expected}, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement;
    }
}

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

    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {expected}, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement;
    }
}

using System.Text;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The guard every test client goes through refuses answers docs/openapi.json does not describe; these answers are made
/// up here (a stub in place of the server), so the guard is shown to fail when the wire and the document part.
/// </summary>
public sealed class ContractGuardTests
{
    private static readonly string JobPath = $"/api/jobs/{Guid.NewGuid()}";

    [Theory]
    [InlineData(418, "application/problem+json", """{"status":418}""", "does not declare")]
    [InlineData(200, "application/json", """{"id":"x"}""", "refuses")]
    [InlineData(404, "application/problem+json", """{"status":"not a number"}""", "refuses")]
    public async Task An_answer_the_document_does_not_describe_fails_the_request(int status, string mediaType, string body, string expected)
    {
        using var client = Client(status, mediaType, body);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync(JobPath));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task A_job_whose_enum_is_a_number_or_whose_non_nullable_field_is_null_fails_the_request()
    {
        var job = await ValidJobAsync();
        foreach (var (property, value) in new (string, System.Text.Json.Nodes.JsonNode?)[] { ("status", 2), ("model", null), ("currentStage", "Quantize") })
        {
            var changed = job.DeepClone().AsObject();
            changed[property] = value;
            using var client = Client(200, "application/json", changed.ToJsonString());

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync(JobPath));
            Assert.Contains(property, error.Message);
        }
        using var valid = Client(200, "application/json", job.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync(JobPath)).StatusCode);
    }

    /// <summary>A queued job as the API answers it (taken from a running service, so the valid case is the real wire).</summary>
    private static async Task<System.Text.Json.Nodes.JsonObject> ValidJobAsync()
    {
        await using var factory = new ServiceFactory(ServiceFactory.Sqlite(embeddedWorker: false));
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/api/jobs", new StringContent("""{"model":"resnet20","dataset":"synthetic"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private static HttpClient Client(int status, string mediaType, string body) =>
        new(new ContractGuard { InnerHandler = new Stub((HttpStatusCode)status, mediaType, body) }) { BaseAddress = new Uri("http://localhost") };

    private sealed class Stub(HttpStatusCode status, string mediaType, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) });
    }
}

using ModelOpt.Api.Security;

namespace ModelOpt.Service.Tests;

/// <summary>The embedded default (SQLite, from this machine) needs no key until the first one is created; then it needs one too.</summary>
public sealed class OpenAccessTests : IAsyncLifetime
{
    private ServiceFactory factory = null!;

    public Task InitializeAsync()
    {
        factory = new ServiceFactory(ServiceFactory.Sqlite(embeddedWorker: false));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => factory.DisposeAsync().AsTask();

    [Fact]
    public async Task Embedded_default_is_open_on_localhost_until_a_key_exists()
    {
        using var anonymous = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/jobs")).StatusCode);

        var response = await anonymous.PostAsJsonAsync("/api/keys", new { name = "first", scope = "admin" }, ApiClient.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadAsync<CreatedApiKeyDto>();

        await (await anonymous.GetAsync("/api/jobs")).ProblemAsync(HttpStatusCode.Unauthorized);
        using var keyed = factory.CreateClient(created.Key);
        Assert.Equal(HttpStatusCode.OK, (await keyed.GetAsync("/api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await keyed.GetAsync("/hangfire")).StatusCode);
    }
}

using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Api.Security;
using ModelOpt.Jobs.Infrastructure;

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

    [Fact]
    public async Task A_key_created_outside_the_api_closes_the_open_access_at_the_next_request()
    {
        using var anonymous = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/jobs")).StatusCode);

        // As the CLI verb does from its own process: a row in the database, which this API's key store never saw.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            db.ApiKeys.Add(new ApiKey
            {
                Id = Guid.CreateVersion7(), Name = "from the cli", Prefix = "mo_cli00", Hash = ApiKeyStore.HashOf("mo_not-a-real-key"),
                Scope = ApiKeyScope.Admin, CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        await (await anonymous.GetAsync("/api/jobs")).ProblemAsync(HttpStatusCode.Unauthorized);
    }
}

using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Api.Security;
using ModelOpt.Testing;
using Npgsql;

namespace ModelOpt.Service.Tests;

/// <summary>
/// API keys on PostgreSQL, where every endpoint but /health needs one: every mapped endpoint (read from the routing
/// table, not listed by hand) without a key, with a read key, a write key and a revoked key; keys are stored hashed;
/// the CLI verb and the admin endpoint make working keys; the Hangfire dashboard needs an admin key.
/// </summary>
public sealed class AuthTests : IAsyncLifetime
{
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: false));
        factory.CreateClient().Dispose(); // starts the host and makes its admin key
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Every_endpoint_but_health_refuses_a_request_without_a_key_with_a_401_problem()
    {
        using var anonymous = factory.CreateAnonymousClient();
        var endpoints = Endpoints();
        Assert.True(endpoints.Count >= 15, $"only {endpoints.Count} endpoints found");

        foreach (var (method, path) in endpoints)
        {
            var response = await anonymous.SendAsync(Request(method, path));
            var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized);
            Assert.Contains("Authorization: Bearer", problem.GetProperty("detail").GetString());
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
    }

    [Theory]
    [InlineData(ApiKeyScope.Read)]
    [InlineData(ApiKeyScope.Write)]
    [InlineData(ApiKeyScope.Worker)]
    public async Task A_key_reaches_the_endpoints_of_its_scope_and_gets_403_on_the_others(ApiKeyScope scope)
    {
        using var client = factory.CreateClient(await factory.CreateKeyAsync(scope));

        foreach (var (method, path) in Endpoints())
        {
            var needed = path.StartsWith("/api/keys", StringComparison.Ordinal) || path.EndsWith("/team", StringComparison.Ordinal) ? ApiKeyScope.Admin
                : path.StartsWith($"/{ModelOpt.Jobs.Artifacts.ApiArtifactTransfer.FilesRoute}/", StringComparison.Ordinal) ? ApiKeyScope.Worker
                : method is "GET" ? ApiKeyScope.Read : ApiKeyScope.Write;
            var response = await client.SendAsync(Request(method, path));
            if (needed > scope)
            {
                var problem = await response.ProblemAsync(HttpStatusCode.Forbidden);
                Assert.Contains($"the scope {needed.ToString().ToLowerInvariant()}", problem.GetProperty("detail").GetString());
            }
            else
            {
                Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                    $"{method} {path} with a {scope} key: {(int)response.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task A_revoked_key_is_refused_everywhere_at_once()
    {
        using var admin = factory.CreateClient();
        var created = await (await admin.PostAsJsonAsync("/api/keys", new { name = "to revoke", scope = "write" }, ApiClient.Json)).ReadAsync<CreatedApiKeyDto>();
        using var client = factory.CreateClient(created.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/jobs")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/keys/{created.Id}")).StatusCode);

        foreach (var (method, path) in Endpoints())
        {
            var problem = await (await client.SendAsync(Request(method, path))).ProblemAsync(HttpStatusCode.Unauthorized);
            Assert.Contains("revoked", problem.GetProperty("detail").GetString());
        }
        var listed = (await admin.GetFromJsonAsync<PagedResult<ApiKeyDto>>("/api/keys", ApiClient.Json))?.Items;
        Assert.NotNull(listed!.Single(k => k.Id == created.Id).RevokedAt);
    }

    [Fact]
    public async Task A_key_request_without_its_scope_is_a_400_naming_it_not_a_read_key()
    {
        using var admin = factory.CreateClient();

        var problem = await (await admin.PostAsJsonAsync("/api/keys", new { name = "no scope" }, ApiClient.Json)).ProblemAsync(HttpStatusCode.BadRequest);

        Assert.StartsWith("Required", problem.GetProperty("errors").GetProperty("scope")[0].GetString());
        Assert.DoesNotContain((await admin.GetFromJsonAsync<PagedResult<ApiKeyDto>>("/api/keys", ApiClient.Json))!.Items, k => k.Name == "no scope");
    }

    [Fact]
    public async Task A_key_name_holding_a_nul_character_is_a_400_not_a_database_outage()
    {
        using var admin = factory.CreateClient();

        var response = await admin.PostAsJsonAsync("/api/keys", new { name = "nul\u0000key", scope = "read" }, ApiClient.Json);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        // Refused by validation on every provider (SQLite would store it; PostgreSQL refuses NUL in text).
        Assert.Contains("NUL", problem.GetProperty("errors").GetProperty("name")[0].GetString());
        Assert.False(response.Headers.Contains("Retry-After"));
        Assert.DoesNotContain((await admin.GetFromJsonAsync<PagedResult<ApiKeyDto>>("/api/keys", ApiClient.Json))!.Items, k => k.Name.StartsWith("nul", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Keys_are_stored_as_sha256_only_and_never_listed()
    {
        using var admin = factory.CreateClient();
        var response = await admin.PostAsJsonAsync("/api/keys", new { name = "ci", scope = "read" }, ApiClient.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadAsync<CreatedApiKeyDto>();
        Assert.Matches("^mo_[A-Za-z0-9_-]{43}$", created.Key);

        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "Name", "Prefix", "Hash", "Scope" FROM api_keys WHERE "Id" = @id""", connection);
        command.Parameters.AddWithValue("id", created.Id);
        await using var row = await command.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        var columns = Enumerable.Range(0, row.FieldCount).Select(i => row.GetString(i)).ToList();
        Assert.DoesNotContain(columns, c => c.Contains(created.Key[3..], StringComparison.Ordinal));
        Assert.Equal(ApiKeyStore.HashOf(created.Key), columns[2]);
        Assert.Equal(created.Key[..8], columns[1]);

        var listing = await admin.GetStringAsync("/api/keys");
        Assert.DoesNotContain(created.Key, listing);
        Assert.DoesNotContain(columns[2], listing);
    }

    [Fact]
    public async Task The_cli_verb_creates_a_key_the_api_accepts()
    {
        var info = new ProcessStartInfo("dotnet", [RepositoryPaths.HostDll("ModelOpt.Api"), "keys", "create", "--scope", "write", "--name", "deploy"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = factory.DataRoot,
        };
        info.Environment["ModelOpt__Storage__Provider"] = "Postgres";
        info.Environment["ModelOpt__ConnectionStrings__Postgres"] = db.ConnectionString;
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, errors + output);
        var key = output.Trim().Split('\n')[^1].Trim();

        using var client = factory.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/jobs")).StatusCode);
        await (await client.DeleteAsync($"/api/keys/{Guid.NewGuid()}")).ProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_dashboard_needs_an_admin_key_which_a_browser_passes_once_in_the_address()
    {
        using var anonymous = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/hangfire")).StatusCode);
        using var reader = factory.CreateClient(await factory.CreateKeyAsync(ApiKeyScope.Read));
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("/hangfire")).StatusCode);
        using var admin = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/hangfire")).StatusCode);

        var adminKey = await factory.CreateKeyAsync(ApiKeyScope.Admin);
        using var browser = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/hangfire?api_key={adminKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/hangfire/jobs/enqueued")).StatusCode); // the cookie carries it
        // ... to the dashboard alone: the admin key given to /hangfire opens neither the API nor the pages.
        await (await browser.GetAsync("/api/keys")).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await browser.GetAsync("/api/jobs")).ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_key_passed_in_a_page_s_address_serves_the_pages_scripted_calls_but_no_cross_site_form()
    {
        using var browser = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/?api_key={await factory.CreateKeyAsync(ApiKeyScope.Write)}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/jobs")).StatusCode); // the pages' GETs

        // A state change on the cookie alone (a cross-site form) is refused; the pages' scripts add the header.
        var job = new { model = "resnet20", dataset = "synthetic" };
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsJsonAsync("/api/jobs", job)).StatusCode);
        var scripted = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = JsonContent.Create(job) };
        scripted.Headers.Add(ApiKeyAuthenticationHandler.ScriptHeader, ApiKeyAuthenticationHandler.ScriptHeaderValue);
        Assert.Equal(HttpStatusCode.Accepted, (await browser.SendAsync(scripted)).StatusCode);
    }

    [Fact]
    public async Task Swagger_document_declares_the_bearer_scheme_for_every_operation()
    {
        using var anonymous = factory.CreateAnonymousClient();
        var doc = JsonDocument.Parse(await anonymous.GetStringAsync("/swagger/v1/swagger.json")).RootElement;

        var scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.True(doc.GetProperty("security")[0].TryGetProperty("Bearer", out _));
    }

    // Every API endpoint in the routing table (route parameters filled in, the body of the media type it accepts), except /health and the root redirect.
    private List<(string Method, string Path)> Endpoints()
    {
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.TrimStart('/').StartsWith("api/", StringComparison.Ordinal))
            .ToList();
        multipartPaths.UnionWith(endpoints.Where(e => e.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes.Contains("multipart/form-data") == true)
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/')));
        return endpoints
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (m, "/" + string.Join('/', e.RoutePattern.RawText!.TrimStart('/').Split('/').Select(Fill)))))
            .ToList();
    }

    private readonly HashSet<string> multipartPaths = [];

    private static string Fill(string segment) => !segment.StartsWith('{') ? segment : segment.Contains(":guid") ? Guid.NewGuid().ToString() : "x";

    private HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
    {
        Content = method is "GET" or "DELETE" ? null
            : multipartPaths.Contains(path) ? TestCheckpoints.Form(HostileCheckpoints.SmallPth(), "small.pth")
            : JsonContent.Create(new { }),
    };
}

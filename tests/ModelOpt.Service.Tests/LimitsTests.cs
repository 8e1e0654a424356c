using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelOpt.Api.Security;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Service.Tests;

/// <summary>The per-key rate limit (429 with Retry-After), Idempotency-Key on submissions and uploads, and start-up validation of the limits.</summary>
public sealed class LimitsTests : IAsyncLifetime
{
    private static readonly object Job = new { model = "resnet20", dataset = "synthetic" };

    private TestPostgres db = null!;

    public async Task InitializeAsync() => db = await TestPostgres.CreateAsync();

    public Task DisposeAsync() => db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_key_past_its_burst_gets_429_with_retry_after_while_other_keys_and_health_are_not_limited()
    {
        await using var factory = Service(("ModelOpt:RateLimit:PermitsPerSecond", "1"), ("ModelOpt:RateLimit:Burst", "3"));
        using var client = factory.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await client.GetAsync("/api/jobs")).StatusCode);
        }
        var limited = await client.GetAsync("/api/jobs");

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var problem = await limited.ProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Contains("ModelOpt:RateLimit", problem.GetProperty("detail").GetString());
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single()) >= 1);
        using var other = factory.CreateClient(await factory.CreateKeyAsync(ApiKeyScope.Read));
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/jobs")).StatusCode);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        }
    }

    [Fact]
    public async Task Guessed_keys_are_limited_per_client_address_before_the_database_is_asked_while_a_known_key_keeps_its_own_bucket()
    {
        await using var factory = Service(("ModelOpt:RateLimit:PermitsPerSecond", "1"), ("ModelOpt:RateLimit:Burst", "3"));
        using var known = factory.CreateClient();
        var store = factory.Services.GetRequiredService<ApiKeyStore>();
        var lookupsBefore = store.DatabaseLookups;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var guess = factory.CreateClient($"mo_guess{i:D2}");
            statuses.Add((await guess.GetAsync("/api/jobs")).StatusCode);
        }

        // The burst (3) and what the bucket refills while the loop runs reach authentication; the rest are refused first.
        var looked = store.DatabaseLookups - lookupsBefore;
        Assert.InRange(looked, 3, 6);
        Assert.Equal(looked, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(20 - looked, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.OK, (await known.GetAsync("/api/jobs")).StatusCode);
    }

    [Fact]
    public async Task Retried_job_submissions_with_one_idempotency_key_create_one_job_even_when_concurrent()
    {
        await using var factory = Service();
        using var client = factory.CreateClient();

        var first = await SubmitAsync(client, "retry-1");
        var again = await SubmitAsync(client, "retry-1");
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SubmitAsync(client, "retry-2")));
        var other = await SubmitAsync(client, "retry-3");

        Assert.Equal(first.Id, again.Id);
        Assert.Single(concurrent.Select(j => j.Id).Distinct());
        Assert.NotEqual(first.Id, other.Id);
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Equal(3, await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Jobs.CountAsync());
    }

    [Fact]
    public async Task A_retried_upload_with_one_idempotency_key_stores_one_checkpoint()
    {
        await using var factory = Service();
        using var client = factory.CreateClient();

        var ids = new List<Guid>();
        for (var i = 0; i < 2; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/checkpoints") { Content = TestCheckpoints.Form(TestCheckpoints.Of(CheckpointFormat.PyTorch), "small.pth") };
            request.Headers.Add("Idempotency-Key", "upload-1");
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            ids.Add((await response.ReadAsync<CheckpointDto>()).Id);
        }

        Assert.Single(ids.Distinct());
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Checkpoints.CountAsync());
        Assert.Single(factory.StoredFiles(), f => f.StartsWith("checkpoints/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_malformed_idempotency_key_is_a_400_naming_the_header()
    {
        await using var factory = Service();
        using var client = factory.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = JsonContent.Create(Job) };
        request.Headers.Add("Idempotency-Key", new string('k', 201));

        var problem = await (await client.SendAsync(request)).ProblemAsync(HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
    }

    [Fact]
    public async Task An_invalid_rate_limit_stops_the_start_up()
    {
        await using var factory = Service(("ModelOpt:RateLimit:PermitsPerSecond", "0"));

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("PermitsPerSecond", Unwrap<OptionsValidationException>(error)?.Message);
    }

    [Fact]
    public async Task An_invalid_worker_thread_count_stops_the_start_up()
    {
        await using var factory = Service(("ModelOpt:Worker:Threads", "0"));

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Threads", Unwrap<OptionsValidationException>(error)?.Message);
    }

    private ServiceFactory Service(params (string Key, string Value)[] overrides)
    {
        var settings = ServiceFactory.Postgres(db, embeddedWorker: false);
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }
        return new ServiceFactory(settings);
    }

    private static async Task<JobDto> SubmitAsync(HttpClient client, string idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = JsonContent.Create(Job) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return await response.ReadAsync<JobDto>();
    }

    private static T? Unwrap<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }
        return null;
    }
}

using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Testing;

namespace ModelOpt.Service.Tests;

/// <summary>
/// Issue 11's hostile files at the upload endpoint, with and without a named model: each is a 400 problem that says what
/// is wrong with the file, and nothing is stored (before, without a model, a foreign global or a lying shape was stored
/// and only failed, or tried to allocate 57.6 GB, in the worker).
/// </summary>
public sealed class HostileUploadTests : PostgresApiTest
{
    public static TheoryData<string, string, string?> Cases()
    {
        var data = new TheoryData<string, string, string?>();
        foreach (var model in new[] { null, "resnet20" })
        {
            data.Add("foreign-global.pth", "'posix.system'", model);
            data.Add("lying-shape.pth", "reaches past its storage of 144 elements", model);
            data.Add("lying-storage.pth", "should hold 14400000000 Float32 elements", model);
            data.Add("zip-bomb.pth", "it is a zip bomb", model);
            data.Add("lying-header.safetensors", "needs 57600000000", model);
            data.Add("lying-header-named.pth", "needs 57600000000", model);
            data.Add("overlapping.safetensors", "overlap", model);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_upload_is_a_400_naming_the_problem_and_stores_nothing(string fileName, string reason, string? model)
    {
        byte[] content = fileName switch
        {
            "foreign-global.pth" => HostileCheckpoints.ForeignGlobal(),
            "lying-shape.pth" => HostileCheckpoints.LyingShapePth(),
            "lying-storage.pth" => HostileCheckpoints.LyingStoragePth(),
            "zip-bomb.pth" => HostileCheckpoints.ZipBombPth(),
            "overlapping.safetensors" => HostileCheckpoints.OverlappingSafetensors(),
            _ => HostileCheckpoints.LyingSafetensors(),
        };

        var response = await Client.PostAsync("/api/checkpoints", TestCheckpoints.Form(content, fileName, model));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        var message = problem.GetProperty("errors").GetProperty("file")[0].GetString()!;
        Assert.StartsWith($"'{fileName}' is not a readable checkpoint", message);
        Assert.Contains(reason, message);
        await using var scope = Factory.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Checkpoints.CountAsync());
        Assert.DoesNotContain(Factory.StoredFiles(), f => !f.StartsWith(".tmp/health-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Guard_catches_a_leaked_path()
    {
        using var guarded = new HttpClient(new ServerInternalsGuard("/srv/modelopt") { InnerHandler = new LeakingHandler() });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => guarded.GetAsync("http://localhost/api/jobs/1"));

        Assert.Contains("/srv/modelopt", error.Message);
    }

    private sealed class LeakingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"error":"cannot open /srv/modelopt/artifacts/x.pth"}""", System.Text.Encoding.UTF8, "application/json"),
            });
    }
}

using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ModelOpt.Service.Tests;

/// <summary>Swagger UI really renders: headless Chromium loads /swagger from a Kestrel-hosted API and shows the jobs endpoints.</summary>
public sealed class SwaggerUiTests
{
    [Fact]
    public async Task Swagger_UI_renders_the_jobs_endpoints_in_headless_chromium()
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
        if (chromium is null)
        {
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase), "Chromium is required under CI=true (apt-get install -y chromium).");
            return; // Outside CI a machine without Chromium cannot run this check.
        }
        await using var factory = new KestrelServiceFactory(ServiceFactory.Sqlite(embeddedWorker: false));
        factory.StartServer();
        var url = factory.ServerAddress + "/swagger/index.html";

        var profile = Directory.CreateTempSubdirectory("chromium-").FullName;
        var info = new ProcessStartInfo(chromium,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url,
        ])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var dom = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        Directory.Delete(profile, recursive: true);

        var html = await dom;
        Assert.Contains("ModelOpt", html);
        Assert.Contains("/api/jobs/{id}/cancel", html);
        Assert.Contains("/api/checkpoints", html);
        Assert.Contains("opblock", html); // operations rendered by Swagger UI, not just its shell
    }

    /// <summary>The API on a real Kestrel port (Chromium cannot reach the in-memory test server).</summary>
    private sealed class KestrelServiceFactory(Dictionary<string, string?> settings) : IAsyncDisposable
    {
        private readonly ServiceFactoryWithKestrel inner = new(settings);

        public string ServerAddress { get; private set; } = "";

        public void StartServer()
        {
            inner.UseKestrel(0);
            inner.StartServer();
            ServerAddress = inner.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class ServiceFactoryWithKestrel(Dictionary<string, string?> settings) : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        private readonly string dataRoot = Directory.CreateTempSubdirectory("modelopt-test-").FullName;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("ModelOpt:Storage:DataRoot", dataRoot);
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            Directory.Delete(dataRoot, recursive: true);
        }
    }
}

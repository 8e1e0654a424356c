using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Api.Security;
using ModelOpt.Jobs.Execution;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>The API in-process over a given configuration; a temporary data root, deleted on dispose.</summary>
public sealed class ServiceFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> settings;
    private readonly IStageRunner? stageRunner;
    private readonly Action<IServiceCollection>? configureServices;
    private string? adminKey;
    private Uri? kestrelAddress;

    public ServiceFactory(Dictionary<string, string?> settings, IStageRunner? stageRunner = null, Action<IServiceCollection>? configureServices = null)
    {
        DataRoot = Directory.CreateTempSubdirectory("modelopt-test-").FullName;
        this.settings = new Dictionary<string, string?>
        {
            ["ModelOpt:Storage:DataRoot"] = DataRoot,
            ["ModelOpt:Worker:PollInterval"] = "00:00:00.200",
            ["ModelOpt:Worker:HeartbeatTimeout"] = "00:00:05",
            ["ModelOpt:Worker:OrphanSweepInterval"] = "00:00:02",
            ["ModelOpt:Workers:HeartbeatInterval"] = WorkerHeartbeatInterval,
            ["ModelOpt:Workers:LostAfter"] = WorkerLostAfter,
        };
        foreach (var (key, value) in settings)
        {
            this.settings[key] = value;
        }
        this.stageRunner = stageRunner;
        this.configureServices = configureServices;
    }

    /// <summary>The worker registry's beat and loss timeout in every test host: a killed worker is lost within seconds.</summary>
    public const string WorkerHeartbeatInterval = "00:00:00.500";
    public const string WorkerLostAfter = "00:00:03";

    public string DataRoot { get; }

    public string ArtifactRoot => Path.Combine(DataRoot, "artifacts");

    /// <summary>
    /// A client whose every JSON answer is checked by <see cref="ServerInternalsGuard"/> and <see cref="ContractGuard"/>. Outside the embedded default
    /// every endpoint needs a key, so there it carries an admin key made for this factory.
    /// </summary>
    public new HttpClient CreateClient()
    {
        var client = CreateAnonymousClient();
        if (settings.GetValueOrDefault("ModelOpt:Storage:Provider") == "Postgres")
        {
            adminKey ??= CreateKeyAsync(ApiKeyScope.Admin).GetAwaiter().GetResult();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        }
        return client;
    }

    /// <summary>A guarded client that sends no key.</summary>
    public HttpClient CreateAnonymousClient() =>
        CreateDefaultClient(kestrelAddress ?? new Uri("http://localhost"), new ServerInternalsGuard(DataRoot), new ContractGuard(), new RedirectHandler(),
            new CookieContainerHandler());

    /// <summary>A guarded client that sends <paramref name="key"/> as its bearer token.</summary>
    public HttpClient CreateClient(string key)
    {
        var client = CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>A new key of the scope, made as the CLI and the admin endpoint make them.</summary>
    public async Task<string> CreateKeyAsync(ApiKeyScope scope) =>
        (await Services.GetRequiredService<ApiKeyStore>().CreateAsync($"test {scope}", scope, CancellationToken.None)).Key;

    /// <summary>A new key of the scope for <paramref name="team"/> (created when new).</summary>
    public async Task<string> CreateKeyAsync(ApiKeyScope scope, string team) =>
        (await Services.GetRequiredService<ApiKeyStore>().CreateAsync($"test {scope} of {team}", scope, team, CancellationToken.None)).Key;

    public static Dictionary<string, string?> Sqlite(bool embeddedWorker = true) => new()
    {
        ["ModelOpt:Storage:Provider"] = "Sqlite",
        ["ModelOpt:Worker:Embedded"] = embeddedWorker ? "true" : "false",
    };

    public static Dictionary<string, string?> Postgres(TestPostgres db, bool embeddedWorker) => new()
    {
        ["ModelOpt:Storage:Provider"] = "Postgres",
        ["ModelOpt:ConnectionStrings:Postgres"] = db.ConnectionString,
        ["ModelOpt:Worker:Embedded"] = embeddedWorker ? "true" : "false",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
        if (stageRunner is not null)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(stageRunner));
        }
        if (configureServices is not null)
        {
            builder.ConfigureTestServices(configureServices);
        }
    }

    /// <summary>Serves the API on a free loopback port (a browser cannot reach the in-memory test server); returns its address.</summary>
    public Uri StartKestrel()
    {
        UseKestrel(0);
        StartServer();
        kestrelAddress = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return kestrelAddress;
    }

    /// <summary>Files in the artifact store, temporary folder included (to prove nothing half-written stays).</summary>
    public IReadOnlyList<string> StoredFiles() =>
        Directory.Exists(ArtifactRoot)
            ? Directory.EnumerateFiles(ArtifactRoot, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(ArtifactRoot, f)).ToList()
            : [];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(DataRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

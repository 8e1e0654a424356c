using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelOpt.Jobs.Execution;
using ModelOpt.Jobs.Extensions;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>
/// A second worker in the test process (the component ModelOpt.Worker hosts) for another device's queue, with a
/// TEST-ONLY stage runner: a "cuda" worker on a machine without a GPU, to prove routing, not CUDA.
/// </summary>
public sealed class InProcessWorker : IAsyncDisposable
{
    private readonly IHost host;

    private InProcessWorker(IHost host)
    {
        this.host = host;
    }

    public static async Task<InProcessWorker> StartAsync(TestPostgres db, string dataRoot, string device, IStageRunner stageRunner)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ModelOpt:Storage:Provider"] = "Postgres",
            ["ModelOpt:ConnectionStrings:Postgres"] = db.ConnectionString,
            ["ModelOpt:Storage:DataRoot"] = dataRoot,
            ["ModelOpt:Worker:Device"] = device,
            ["ModelOpt:Worker:PollInterval"] = "00:00:00.200",
            ["ModelOpt:Worker:HeartbeatTimeout"] = "00:00:05",
            ["ModelOpt:Worker:OrphanSweepInterval"] = "00:00:02",
            [$"{Jobs.Options.WorkerRegistryOptions.Section}:HeartbeatInterval"] = ServiceFactory.WorkerHeartbeatInterval,
            [$"{Jobs.Options.WorkerRegistryOptions.Section}:LostAfter"] = ServiceFactory.WorkerLostAfter,
        });
        builder.AddModelOptCore();
        builder.AddModelOptWorker();
        builder.Services.AddSingleton(stageRunner);
        var host = builder.Build();
        await host.StartAsync();
        return new InProcessWorker(host);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(20));
        host.Dispose();
    }
}

using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Options;

namespace ModelOpt.ServiceBench;

/// <summary>One artifact transfer between a worker and the API: its throughput and both processes' memory meanwhile.</summary>
public sealed record TransferMeasurement(
    string Direction, long Bytes, TimeSpan Elapsed, MemorySnapshot WorkerBefore, long WorkerPeakRssBytes, MemorySnapshot ApiBefore, long ApiPeakRssBytes)
{
    public double MegabytesPerSecond => Bytes / 1e6 / Elapsed.TotalSeconds;

    public long WorkerPeakDelta => WorkerPeakRssBytes - WorkerBefore.RssBytes;

    public long ApiPeakDelta => ApiPeakRssBytes - ApiBefore.RssBytes;
}

/// <summary>
/// The worker side of ModelOpt:Worker:Artifacts = Api, in this process: the production <see cref="ApiArtifactTransfer"/>
/// uploads a file as a stage's artifact (hash, PUT with Content-Digest, the API hashes while storing) and downloads it
/// again as an input (GET, hashed while written, checked). This process plays the worker, so its RSS is the worker's.
/// Each round also stores the file as the default shared-folder mode does, for a ratio measured in the same run.
/// </summary>
/// <param name="claimJob">A running job and the execution id of its claim: the API stores a worker's file only for such a claim.</param>
public sealed class ArtifactTransferBench(Uri api, string workerKey, int apiPid, string folder, Func<Task<(Guid JobId, Guid ExecutionId)>> claimJob)
{
    public const string SharedFolderCopy = "shared folder (copy + hash, same disk)";

    public async Task<IReadOnlyList<TransferMeasurement>> RunAsync(string file, int rounds)
    {
        using var services = new ServiceCollection().BuildServiceProvider();
        using var transfer = new ApiArtifactTransfer(
            Options.Create(new WorkerOptions { Artifacts = ArtifactAccess.Api, ApiUrl = api, ApiKey = workerKey }),
            Options.Create(new StorageOptions { DataRoot = folder }),
            services.GetRequiredService<IServiceScopeFactory>(),
            NullLogger<ApiArtifactTransfer>.Instance);
        // The default mode side by side: the same file copied (and hashed) into a store on this machine's disk.
        var sharedFolder = new SharedFolderArtifactTransfer(new ArtifactStore(Options.Create(new StorageOptions
        {
            DataRoot = folder, ArtifactRoot = Path.Combine(folder, "shared-store"),
        })));
        var sha256 = await ContentDigest.OfFileAsync(file, CancellationToken.None);
        var results = new List<TransferMeasurement>();
        // Round 0 warms up connections, JIT and the page cache; it is not reported.
        for (var round = 0; round <= rounds; round++)
        {
            var (jobId, executionId) = await claimJob();
            var path = ArtifactStore.JobArtifactPath(jobId, $"Convert/{Path.GetFileName(file)}");
            var upload = await MeasureAsync("upload (worker → API)", file, () => transfer.PublishAsync(file, path, executionId, CancellationToken.None));
            string? local = null;
            var download = await MeasureAsync("download (API → worker)", file, async () =>
                local = await transfer.FetchAsync(path, sha256, CancellationToken.None)
                        ?? throw new InvalidOperationException($"The API has no {path} right after storing it."));
            File.Delete(local!);
            var copy = await MeasureAsync(SharedFolderCopy, file, () => sharedFolder.PublishAsync(file, path, executionId, CancellationToken.None));
            if (round > 0)
            {
                results.AddRange([upload, download, copy]);
            }
        }
        return results;
    }

    private async Task<TransferMeasurement> MeasureAsync(string direction, string file, Func<Task> transfer)
    {
        var workerBefore = MemorySnapshot.Read(Environment.ProcessId);
        var apiBefore = MemorySnapshot.Read(apiPid);
        var worker = new RssPeakSampler(Environment.ProcessId, TimeSpan.FromMilliseconds(2));
        var apiSampler = new RssPeakSampler(apiPid, TimeSpan.FromMilliseconds(2));
        var clock = Stopwatch.StartNew();
        try
        {
            await transfer();
        }
        finally
        {
            await worker.DisposeAsync();
            await apiSampler.DisposeAsync();
        }
        return new TransferMeasurement(direction, new FileInfo(file).Length, clock.Elapsed, workerBefore, worker.PeakBytes, apiBefore, apiSampler.PeakBytes);
    }
}

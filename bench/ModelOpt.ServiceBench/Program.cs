// ModelOpt service benchmark: the API's own latency under load and its memory across a 45 MB checkpoint upload.
//
//   dotnet build src/ModelOpt.Api -c Release                      # the API under test (Release)
//   dotnet run -c Release --project bench/ModelOpt.ServiceBench    # embedded default: SQLite
//   dotnet run -c Release --project bench/ModelOpt.ServiceBench -- \
//       --provider postgres --connection "$(scripts/start-postgres.sh | tail -1)"   # the production figure
//   ... -- --help                                                  # every option
//
// It starts `dotnet ModelOpt.Api.dll --urls http://127.0.0.1:PORT` itself on a fresh temporary data root (PostgreSQL: a
// throwaway database, dropped afterwards) with ModelOpt__Worker__Embedded=false, so jobs only queue, waits for /health, then
//   1. load: POST /api/jobs with the notebook's job body from 50 concurrent loopback clients, 100 warm-up requests, then
//      2000 measured requests or 30 s, whichever first: count, errors, throughput, p50/p90/p99/max (target p99 < 50 ms);
//   2. upload memory: a real 45 MB resnet18-cifar .safetensors (written by the engine's CheckpointWriter) streamed as
//      multipart to POST /api/checkpoints, the API's VmRSS read before/after and sampled during (target < 10 MB growth),
//      once without 'model' (format check only) and once with model=resnet18-cifar (the architecture check reads only
//      names, shapes and dtypes); small resnet20 warm-up uploads of both kinds first;
//   3. with --artifact-transfer: a worker's artifact transfer through the API (ApiArtifactTransfer, in this process):
//      the 45 MB file uploaded as a stage's artifact and downloaded as an input, MB/s and both processes' RSS, beside
//      the shared-folder mode's local copy of the same file;
//   4. kills the API and prints the table: metric, value, target, met?
// The client shares the machine with the API: on a loaded or small machine the figures include that contention, so the
// load average is printed with them. Not part of the test suite.
using ModelOpt.ServiceBench;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(ServiceBenchOptions.Usage);
    return 0;
}
ServiceBenchOptions options;
try
{
    options = ServiceBenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(ServiceBenchOptions.Usage);
    return 2;
}

var apiDll = Path.GetFullPath(options.ApiDll ?? Path.Combine(RepositoryRoot.Find(), "src/ModelOpt.Api/bin/Release/net10.0/linux-x64/ModelOpt.Api.dll"));
var dataRoot = Directory.CreateTempSubdirectory("modelopt-servicebench-").FullName;
var table = new ResultTable();
var failed = false;
PostgresDatabase? database = null;
Console.WriteLine($"API {apiDll}\nprovider {options.Provider}, data root {dataRoot}, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
try
{
    string? uploadFolder = null;
    if (!options.SkipUpload)
    {
        uploadFolder = Directory.CreateDirectory(Path.Combine(dataRoot, "upload-source")).FullName;
    }
    if (options.Provider == BenchProvider.Postgres)
    {
        database = await PostgresDatabase.CreateAsync(options.Connection!);
        Console.WriteLine($"PostgreSQL database {database.Name} (dropped at the end)");
    }

    await using (var api = await ApiProcess.StartAsync(apiDll, options.Port, dataRoot, options.Provider, database?.ConnectionString, TimeSpan.FromMinutes(3),
                     embeddedWorker: options.DatasetUpload))
    {
        Console.WriteLine($"API pid {api.Pid} healthy at {api.BaseAddress} (log {api.LogPath})");
        using var client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Clients,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", api.ApiKey);

        if (!options.SkipLoad)
        {
            var load = new JobLoadTest(client, options.Dataset);
            await load.RunAsync(options.Clients, options.Warmup, options.Duration);
            Console.WriteLine($"load: {options.Clients} clients, {options.Requests} requests or {options.Duration.TotalSeconds:F0} s (after {options.Warmup} warm-up), load average {LoadAverage()}");
            var result = await load.RunAsync(options.Clients, options.Requests, options.Duration);
            Console.WriteLine($"load done in {result.Elapsed.TotalSeconds:F1} s, load average {LoadAverage()}");
            if (result.FirstError is { } error)
            {
                Console.WriteLine($"first error: {error}");
            }
            table.Add("POST /api/jobs requests", $"{result.Count} ({result.Errors} errors) in {result.Elapsed.TotalSeconds:F1} s");
            table.Add("throughput", $"{result.Throughput:F0} req/s");
            table.Add("latency p50", $"{result.Percentile(50):F1} ms");
            table.Add("latency p90", $"{result.Percentile(90):F1} ms");
            table.Add("latency p99", result.Percentile(99), "ms", 50);
            table.Add("latency max", $"{result.MaxMs:F1} ms");
            failed |= result.Errors > 0;
        }

        if (uploadFolder is not null)
        {
            Console.WriteLine("writing checkpoints (resnet20 warm-up, resnet18-cifar)...");
            var small = CheckpointFiles.WriteResNet20(uploadFolder);
            var large = CheckpointFiles.WriteResNet18(uploadFolder);
            var upload = new UploadMemoryTest(client, api.Pid);
            await upload.UploadAsync(small, model: null);
            await upload.UploadAsync(small, model: "resnet20");
            await Task.Delay(TimeSpan.FromSeconds(1));
            foreach (var (label, model) in new[] { ("upload, no model", (string?)null), ("upload, model=resnet18-cifar", "resnet18-cifar") })
            {
                var m = await upload.MeasureAsync(label, large, model);
                Console.WriteLine($"{label}: {m.FileBytes / 1e6:F1} MB in {m.Elapsed.TotalMilliseconds:F0} ms; RSS {Mb(m.Before.RssBytes)} -> {Mb(m.After.RssBytes)} MB, "
                                  + $"sampled peak {Mb(m.SampledPeakRssBytes)} MB; VmHWM {Mb(m.Before.HwmBytes)} -> {Mb(m.After.HwmBytes)} MB");
                table.Add($"{label}: RSS before -> after", $"{Mb(m.Before.RssBytes)} -> {Mb(m.After.RssBytes)} MB");
                table.Add($"{label}: RSS growth", m.RssDelta / 1048576.0, "MB", 10);
                table.Add($"{label}: peak RSS during upload", m.PeakDelta / 1048576.0, "MB", 10);
                table.Add($"{label}: VmHWM growth", $"{m.HwmDelta / 1048576.0:F1} MB");
            }
        }

        if (options.ArtifactTransfer)
        {
            var source = Directory.CreateDirectory(Path.Combine(dataRoot, "transfer-source")).FullName;
            var file = CheckpointFiles.WriteResNet18(source);
            var transfer = new ArtifactTransferBench(api.BaseAddress, api.ApiKey, api.Pid, Directory.CreateDirectory(Path.Combine(dataRoot, "worker")).FullName,
                () => ClaimedJob.CreateAsync(client, options.Dataset, options.Provider, dataRoot, database?.ConnectionString));
            Console.WriteLine($"artifact transfer: {new FileInfo(file).Length / 1e6:F1} MB, 1 warm-up + {options.TransferRounds} rounds each way, load average {LoadAverage()}");
            var measured = await transfer.RunAsync(file, options.TransferRounds);
            foreach (var t in measured)
            {
                Console.WriteLine($"{t.Direction}: {t.Bytes / 1e6:F1} MB in {t.Elapsed.TotalMilliseconds:F0} ms = {t.MegabytesPerSecond:F0} MB/s; "
                                  + $"worker RSS {Mb(t.WorkerBefore.RssBytes)} -> peak {Mb(t.WorkerPeakRssBytes)} MB; API RSS {Mb(t.ApiBefore.RssBytes)} -> peak {Mb(t.ApiPeakRssBytes)} MB");
            }
            foreach (var direction in measured.GroupBy(t => t.Direction))
            {
                var speeds = direction.Select(t => t.MegabytesPerSecond).Order().ToList();
                table.Add($"{direction.Key}, {direction.First().Bytes / 1e6:F1} MB", $"median {speeds[speeds.Count / 2]:F0} MB/s (min {speeds[0]:F0}, max {speeds[^1]:F0}, {speeds.Count} rounds)");
                table.Add($"{direction.Key}: worker peak RSS growth", direction.Max(t => t.WorkerPeakDelta) / 1048576.0, "MB", 10);
                table.Add($"{direction.Key}: API peak RSS growth", $"{direction.Max(t => t.ApiPeakDelta) / 1048576.0:F1} MB");
            }
        }

        if (options.DatasetUpload)
        {
            Console.WriteLine($"dataset: writing a {options.DatasetTrain} + {options.DatasetTest} image PNG zip, uploading it, decoding an epoch, scoring it...");
            var bench = new DatasetUploadBench(client, api.Pid, Directory.CreateDirectory(Path.Combine(dataRoot, "dataset-source")).FullName);
            var d = await bench.RunAsync(options.DatasetTrain, options.DatasetTest, options.DatasetBaseline);
            Console.WriteLine($"dataset stages: {string.Join(", ", d.Stages.Select(s => $"{s.Stage} {s.Seconds:F1} s"))}; load average {LoadAverage()}");
            table.Add("dataset zip", $"{d.TrainImages} train + {d.TestImages} test PNGs, {d.ZipBytes / 1e6:F1} MB, written in {d.WriteTime.TotalSeconds:F1} s");
            table.Add("dataset upload (stream + decode every image once)", $"{d.UploadTime.TotalSeconds:F1} s");
            table.Add("dataset upload: API RSS before -> sampled peak", $"{Mb(d.BeforeUpload.RssBytes)} -> {Mb(d.UploadPeakRssBytes)} MB");
            table.Add($"first epoch decode ({d.TrainImages} train images, batches of 128)", $"{d.FirstEpochDecode.TotalSeconds:F1} s ({d.TrainImages / d.FirstEpochDecode.TotalSeconds:F0} images/s)");
            table.Add($"scoring job on {(options.DatasetBaseline ? "built-in fashion-mnist" : "the upload")} ({d.ImagesScored} test images scored, FP32 acc {d.Fp32Accuracy:F3})",
                $"{d.JobElapsed.TotalSeconds:F1} s");
            table.Add("scoring job: worker (API) RSS before -> sampled peak", $"{Mb(d.BeforeJob.RssBytes)} -> {Mb(d.JobPeakRssBytes)} MB");
            table.Add("scoring job: worker (API) VmHWM before -> after", $"{Mb(d.BeforeJob.HwmBytes)} -> {Mb(d.AfterJob.HwmBytes)} MB");
        }
    }
    Console.WriteLine($"API stopped; load average {LoadAverage()}");
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or FileNotFoundException or HttpRequestException or Npgsql.NpgsqlException)
{
    Console.Error.WriteLine($"Benchmark failed: {e.Message}");
    failed = true;
}
finally
{
    if (database is not null)
    {
        await database.DisposeAsync();
    }
}

Console.WriteLine();
table.Print(Console.Out);
Console.WriteLine($"\n{options.Provider}, {Environment.ProcessorCount} cores, load average {LoadAverage()} (1/5/15 min)");
if (options.Keep || failed)
{
    Console.WriteLine($"data root kept: {dataRoot}");
}
else
{
    Directory.Delete(dataRoot, recursive: true);
}
return failed ? 1 : 0;

static string Mb(long bytes) => (bytes / 1048576.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

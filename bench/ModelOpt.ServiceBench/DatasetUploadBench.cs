using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;

namespace ModelOpt.ServiceBench;

/// <summary>What the dataset measurement found: the zip, its upload, one decoding epoch, and a scoring job's memory.</summary>
public sealed record DatasetBenchResult(
    int TrainImages, int TestImages, long ZipBytes, TimeSpan WriteTime, TimeSpan UploadTime, long UploadPeakRssBytes, MemorySnapshot BeforeUpload,
    TimeSpan FirstEpochDecode, TimeSpan JobElapsed, IReadOnlyList<(string Stage, double Seconds)> Stages, double Fp32Accuracy, int ImagesScored,
    MemorySnapshot BeforeJob, long JobPeakRssBytes, MemorySnapshot AfterJob);

/// <summary>
/// An ImageFolder PNG zip of Debian's Fashion-MNIST (the first N training and M test images, written by the engine's
/// <see cref="DatasetExport"/>): its upload to <c>POST /api/datasets</c> (streamed; the API decodes every image once to
/// check it), one decoding epoch of its train split in this process (the engine's lazy zip source with the default
/// transform, batches of 128), and a job on the API's embedded worker that scores the whole test split with a random
/// resnet20, its RSS sampled every 50 ms; with <c>scoreBuiltIn</c> the job scores the same test images from the built-in
/// fashion-mnist instead (held in memory as uint8), the baseline for that memory figure.
/// </summary>
public sealed class DatasetUploadBench(HttpClient client, int apiPid, string folder)
{
    public async Task<DatasetBenchResult> RunAsync(int trainImages, int testImages, bool scoreBuiltIn)
    {
        var zipPath = Path.Combine(folder, $"fashion-{trainImages + testImages}.zip");
        var write = Stopwatch.StartNew();
        using (var all = FashionMnist.Load())
        using (var subset = new DatasetSplits(all.Train.Take(trainImages), all.Test.Take(testImages)))
        {
            DatasetExport.WriteImageFolderZip(subset, [.. Enumerable.Range(0, FashionMnist.Classes).Select(c => $"class{c}")], zipPath);
        }
        var writeTime = write.Elapsed;

        var beforeUpload = MemorySnapshot.Read(apiPid);
        var clock = Stopwatch.StartNew();
        JsonElement dataset;
        long uploadPeak;
        await using (var sampler = new RssPeakSampler(apiPid, TimeSpan.FromMilliseconds(20)))
        {
            dataset = await PostFileAsync("api/datasets", zipPath, null);
            uploadPeak = sampler.PeakBytes;
        }
        var uploadTime = clock.Elapsed;

        var epoch = Stopwatch.StartNew();
        var file = new UploadedDatasetFile(zipPath, Path.GetFileName(zipPath), DatasetFileFormat.ImageFolderZip, 1,
            [.. dataset.GetProperty("classNames").EnumerateArray().Select(n => n.GetString()!)], (28, 28), dataset.GetProperty("sha256").GetString()!);
        using (var splits = UploadedDatasets.Open(file, new DatasetSplitOptions(), new DatasetFileLimits()))
        using (var scope = TorchSharp.torch.NewDisposeScope())
        {
            foreach (var batch in splits.Train.Batches(128))
            {
                scope.DisposeEverything();
            }
        }
        var firstEpoch = epoch.Elapsed;

        var checkpoint = await PostFileAsync("api/checkpoints", CheckpointFiles.WriteResNet20(folder, inputChannels: 1), "resnet20");
        var beforeJob = MemorySnapshot.Read(apiPid);
        var job = Stopwatch.StartNew();
        JsonElement finished;
        long jobPeak;
        await using (var sampler = new RssPeakSampler(apiPid, TimeSpan.FromMilliseconds(50)))
        {
            finished = await RunJobAsync(scoreBuiltIn ? "fashion-mnist" : dataset.GetProperty("id").GetString()!, checkpoint.GetProperty("id").GetString()!, testImages);
            jobPeak = sampler.PeakBytes;
        }
        var afterJob = MemorySnapshot.Read(apiPid);
        var stages = finished.GetProperty("stages").EnumerateArray()
            .Select(s => (s.GetProperty("stage").GetString()!, s.GetProperty("durationMs").GetDouble() / 1000)).ToList();
        var fp32 = finished.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "EvaluateFp32")
            .GetProperty("results")[0];
        return new DatasetBenchResult(trainImages, testImages, new FileInfo(zipPath).Length, writeTime, uploadTime, uploadPeak, beforeUpload,
            firstEpoch, job.Elapsed, stages, fp32.GetProperty("accuracy").GetDouble(), fp32.GetProperty("imagesScored").GetInt32(),
            beforeJob, jobPeak, afterJob);
    }

    private async Task<JsonElement> RunJobAsync(string datasetId, string checkpointId, int testImages)
    {
        using var response = await client.PostAsJsonAsync("api/jobs", new
        {
            model = "resnet20",
            dataset = datasetId,
            checkpointId,
            quantization = new { calibrationImages = 256, calibrationBatchSize = 128 },
            evaluation = new { testSubset = testImages, latencyBatchSize = 32, warmupRuns = 1, timedRuns = 5 },
            compile = new { enabled = false },
        });
        var id = (await ReadAsync(response, HttpStatusCode.Accepted)).GetProperty("id").GetString();
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var job = await client.GetFromJsonAsync<JsonElement>($"api/jobs/{id}");
            var status = job.GetProperty("status").GetString();
            if (status is "Succeeded")
            {
                return job;
            }
            if (status is "Failed" or "Cancelled")
            {
                throw new InvalidOperationException($"The scoring job {status}: {job.GetProperty("error")}");
            }
        }
    }

    private async Task<JsonElement> PostFileAsync(string route, string path, string? model)
    {
        using var form = UploadMemoryTest.StreamedForm(path, model);
        using var response = await client.PostAsync(route, form);
        return await ReadAsync(response, HttpStatusCode.Created);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        return response.StatusCode == expected
            ? JsonDocument.Parse(body).RootElement.Clone()
            : throw new InvalidOperationException($"{response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {body}");
    }
}

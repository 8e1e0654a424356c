using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace ModelOpt.ServiceBench;

/// <summary>The API process's memory around one checkpoint upload.</summary>
public sealed record UploadMeasurement(
    string Label, long FileBytes, MemorySnapshot Before, MemorySnapshot After, long SampledPeakRssBytes, TimeSpan Elapsed)
{
    public long RssDelta => After.RssBytes - Before.RssBytes;

    /// <summary>Highest RSS seen while the upload ran (sampled every 2 ms), above the RSS before it.</summary>
    public long PeakDelta => Math.Max(SampledPeakRssBytes, After.RssBytes) - Before.RssBytes;

    /// <summary>Growth of the process's lifetime peak; 0 when this upload stayed under an earlier peak.</summary>
    public long HwmDelta => After.HwmBytes - Before.HwmBytes;
}

/// <summary>
/// <c>POST /api/checkpoints</c> as multipart/form-data, the file streamed from disk (<see cref="StreamContent"/> over a
/// <see cref="FileStream"/>, Content-Length known, nothing buffered), with the API's RSS read before, during and after.
/// </summary>
public sealed class UploadMemoryTest(HttpClient client, int apiPid)
{
    public async Task UploadAsync(string path, string? model)
    {
        using var response = await PostAsync(path, model);
        await EnsureCreatedAsync(response);
    }

    public async Task<UploadMeasurement> MeasureAsync(string label, string path, string? model)
    {
        var before = MemorySnapshot.Read(apiPid);
        var clock = Stopwatch.StartNew();
        var sampler = new RssPeakSampler(apiPid, TimeSpan.FromMilliseconds(2));
        HttpResponseMessage response;
        try
        {
            response = await PostAsync(path, model);
        }
        finally
        {
            await sampler.DisposeAsync();
        }
        var elapsed = clock.Elapsed;
        var after = MemorySnapshot.Read(apiPid);
        using (response)
        {
            await EnsureCreatedAsync(response);
        }
        return new UploadMeasurement(label, new FileInfo(path).Length, before, after, sampler.PeakBytes, elapsed);
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string? model)
    {
        using var form = StreamedForm(path, model);
        return await client.PostAsync("api/checkpoints", form);
    }

    /// <summary>The upload form: the file streamed from disk as the 'file' part, and an optional 'model' field.</summary>
    public static MultipartFormDataContent StreamedForm(string path, string? model)
    {
        var form = new MultipartFormDataContent();
        var file = new StreamContent(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan), 81920);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", Path.GetFileName(path));
        if (model is not null)
        {
            form.Add(new StringContent(model), "model");
        }
        return form;
    }

    private static async Task EnsureCreatedAsync(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Upload refused ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync()}");
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Text;

namespace ModelOpt.ServiceBench;

/// <summary>Latencies of one load run: every request's wall time in milliseconds, sorted.</summary>
public sealed record LoadResult(double[] LatenciesMs, int Errors, string? FirstError, TimeSpan Elapsed)
{
    public int Count => LatenciesMs.Length;
    public double Throughput => Count / Elapsed.TotalSeconds;
    public double MaxMs => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[^1];

    /// <summary>Nearest-rank percentile (p in 0..100).</summary>
    public double Percentile(double p) =>
        LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[Math.Clamp((int)Math.Ceiling(p / 100 * LatenciesMs.Length) - 1, 0, LatenciesMs.Length - 1)];
}

/// <summary>
/// <c>POST /api/jobs</c> with the notebook's job body (no checkpoint: the job would train first) from N concurrent clients,
/// each on its own keep-alive connection, until a request count or a duration is reached. With no worker the jobs only queue,
/// so the latency is the API's: validation, the row insert and the Hangfire enqueue.
/// </summary>
public sealed class JobLoadTest(HttpClient client, string dataset)
{
    /// <summary>The notebook's job (scripts/quickstart.sh's body): resnet18-cifar, histogram observer, 256 calibration images.</summary>
    public string Body { get; } = $$$"""
        {"model":"resnet18-cifar","dataset":"{{{dataset}}}","device":"cpu",
         "training":{"epochs":1,"trainSubset":6000},
         "quantization":{"activationObserver":"histogram","calibrationImages":256},
         "evaluation":{"testSubset":2000,"latencyBatchSize":128,"warmupRuns":5,"timedRuns":50}}
        """;

    public async Task<LoadResult> RunAsync(int clients, int maxRequests, TimeSpan maxDuration)
    {
        var latencies = new double[maxRequests];
        var issued = -1;
        var completed = 0;
        var errors = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();

        async Task ClientLoop()
        {
            while (clock.Elapsed < maxDuration)
            {
                var index = Interlocked.Increment(ref issued);
                if (index >= maxRequests)
                {
                    return;
                }
                var started = Stopwatch.GetTimestamp();
                string? error;
                try
                {
                    using var content = new StringContent(Body, Encoding.UTF8, "application/json");
                    using var response = await client.PostAsync("api/jobs", content);
                    var text = await response.Content.ReadAsStringAsync();
                    error = response.StatusCode == HttpStatusCode.Accepted ? null : $"{(int)response.StatusCode}: {Truncate(text)}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    error = e.Message;
                }
                latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Increment(ref completed);
                if (error is not null)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, error, null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(ClientLoop)));
        var elapsed = clock.Elapsed;
        // Every issued index below maxRequests completed (each loop awaits its request before looking at the clock again).
        var done = latencies.AsSpan(0, Math.Min(completed, maxRequests)).ToArray();
        Array.Sort(done);
        return new LoadResult(done, errors, firstError, elapsed);
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

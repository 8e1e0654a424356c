using System.Diagnostics;

namespace ModelOpt.ServiceBench;

/// <summary>
/// The API under test as a child process: <c>dotnet ModelOpt.Api.dll --urls http://127.0.0.1:PORT</c> on a fresh data root,
/// without the embedded worker unless asked (jobs only queue), its console output appended to <c>{dataRoot}/api.log</c>. A worker key
/// is made first with the API's own CLI verb (<see cref="ApiKey"/>), and the per-key rate limit is lifted: the bench
/// measures the API, not its limiter.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private bool _closed;

    private ApiProcess(Process process, StreamWriter log, Uri baseAddress, string logPath, string apiKey)
    {
        ApiKey = apiKey;
        _process = process;
        _log = log;
        BaseAddress = baseAddress;
        LogPath = logPath;
    }

    public Uri BaseAddress { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;

    /// <summary>A worker-scope key (write, and the workers' file endpoints) for the load, upload and transfer clients.</summary>
    public string ApiKey { get; }

    /// <param name="embeddedWorker">Host the worker in the API process (the dataset measurement runs a job); off, jobs only queue.</param>
    public static async Task<ApiProcess> StartAsync(
        string apiDll, int port, string dataRoot, BenchProvider provider, string? connection, TimeSpan timeout, bool embeddedWorker = false)
    {
        if (!File.Exists(apiDll))
        {
            throw new FileNotFoundException($"The API build is missing: {apiDll}. Build it first: dotnet build src/ModelOpt.Api -c Release", apiDll);
        }
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var apiKey = await CreateKeyAsync(Start(apiDll, dataRoot, provider, connection, ["keys", "create", "--scope", "worker", "--name", "service bench"]));
        var start = Start(apiDll, dataRoot, provider, connection, ["--urls", baseAddress.ToString().TrimEnd('/')]);
        start.Environment["ModelOpt__Worker__Embedded"] = embeddedWorker ? "true" : "false";

        var logPath = Path.Combine(dataRoot, "api.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        var api = new ApiProcess(process, log, baseAddress, logPath, apiKey);
        process.OutputDataReceived += (_, e) => api.Append(e.Data);
        process.ErrorDataReceived += (_, e) => api.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await api.WaitHealthyAsync(timeout);
            return api;
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    private static ProcessStartInfo Start(string apiDll, string dataRoot, BenchProvider provider, string? connection, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dataRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(apiDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["ModelOpt__Storage__DataRoot"] = dataRoot;
        start.Environment["ModelOpt__Storage__Provider"] = provider.ToString();
        start.Environment["ModelOpt__Worker__Embedded"] = "false";
        start.Environment["ModelOpt__RateLimit__PermitsPerSecond"] = "1000000";
        start.Environment["ModelOpt__RateLimit__Burst"] = "1000000";
        if (connection is not null)
        {
            start.Environment["ModelOpt__ConnectionStrings__Postgres"] = connection;
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        return start;
    }

    // `ModelOpt.Api keys create` prints the key alone on its last line.
    private static async Task<string> CreateKeyAsync(ProcessStartInfo command)
    {
        using var process = Process.Start(command)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'ModelOpt.Api keys create' failed ({process.ExitCode}): {errors}{output}");
        }
        return output.Trim().Split('\n')[^1].Trim();
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The API exited with code {_process.ExitCode} before it was healthy; see {LogPath}.");
            }
            try
            {
                using var response = await client.GetAsync("health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Starting up (migrations); try again.
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"The API was not healthy within {timeout.TotalSeconds:F0} s; see {LogPath}.");
    }

    private void Append(string? line)
    {
        lock (_log)
        {
            if (line is not null && !_closed)
            {
                _log.WriteLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        lock (_log)
        {
            _closed = true;
            _log.Dispose();
        }
    }
}

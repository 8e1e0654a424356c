using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>
/// The built API started as its own process, as <c>scripts/quickstart.sh</c> starts it: <c>dotnet ModelOpt.Api.dll</c>, no
/// environment named (Production), the embedded default (SQLite and an in-process worker) under a temporary data root,
/// from <paramref name="workingDirectory"/> (the quickstart's is the repository root). Not <c>WebApplicationFactory</c>,
/// which hosts the API with the test's content root and so cannot see how a started API finds its files.
/// </summary>
public sealed partial class ApiProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly bool ownsDataRoot;

    private ApiProcess(Process process, string dataRoot, bool ownsDataRoot)
    {
        this.process = process;
        DataRoot = dataRoot;
        this.ownsDataRoot = ownsDataRoot;
    }

    public string DataRoot { get; }

    /// <summary>The API's own process (<c>dotnet ModelOpt.Api.dll</c> runs the app in the host's process), for /proc readings.</summary>
    public int ProcessId => process.Id;

    public Uri Address => listening.Task.Result;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <param name="dataRoot">Where the API keeps its data (a fresh temporary folder when null); the caller owns a folder it passes.</param>
    public static async Task<ApiProcess> StartAsync(string workingDirectory, IReadOnlyDictionary<string, string>? settings = null, string? dataRoot = null)
    {
        var ownsDataRoot = dataRoot is null;
        dataRoot ??= Directory.CreateTempSubdirectory("modelopt-process-").FullName;
        var info = new ProcessStartInfo("dotnet", [RepositoryPaths.HostDll("ModelOpt.Api"), "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        // The quickstart names no environment; the test runner's must not leak in.
        foreach (var name in new[] { "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "ASPNETCORE_URLS" })
        {
            info.Environment.Remove(name);
        }
        info.Environment["ModelOpt__Storage__DataRoot"] = dataRoot;
        info.Environment["ModelOpt__Worker__PollInterval"] = "00:00:00.200";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var api = new ApiProcess(process, dataRoot, ownsDataRoot);
        process.OutputDataReceived += (_, e) => api.Append(e.Data);
        process.ErrorDataReceived += (_, e) => api.Append(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => api.listening.TrySetException(new InvalidOperationException($"The API exited ({process.ExitCode}):\n{api.Output}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = await Task.WhenAny(api.listening.Task, Task.Delay(TimeSpan.FromSeconds(90)));
        Assert.True(started == api.listening.Task, $"The API did not start listening in 90 s:\n{api.Output}");
        await api.listening.Task;
        return api;
    }

    public HttpClient CreateClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        if (!ownsDataRoot)
        {
            return;
        }
        try
        {
            Directory.Delete(DataRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            output.AppendLine(line);
        }
        if (ListeningLine().Match(line) is { Success: true } match)
        {
            listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on:? ""?(http://[^\s""]+)")]
    private static partial Regex ListeningLine();
}

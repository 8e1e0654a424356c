using System.Diagnostics;
using System.Text;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>A ModelOpt.Worker host in its own process, over the same database and artifact store as the API under test.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private WorkerProcess(Process process)
    {
        this.process = process;
    }

    public int Id => process.Id;

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

    /// <summary>Starts a worker over <paramref name="dataRoot"/>; <paramref name="settings"/> adds or overrides its environment.</summary>
    public static WorkerProcess Start(TestPostgres db, string dataRoot, IReadOnlyDictionary<string, string>? settings = null)
    {
        var info = new ProcessStartInfo("dotnet", [RepositoryPaths.HostDll("ModelOpt.Worker")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataRoot,
        };
        info.Environment["ModelOpt__Storage__Provider"] = "Postgres";
        info.Environment["ModelOpt__ConnectionStrings__Postgres"] = db.ConnectionString;
        info.Environment["ModelOpt__Storage__DataRoot"] = dataRoot;
        info.Environment["ModelOpt__Worker__Device"] = "cpu";
        info.Environment["ModelOpt__Worker__PollInterval"] = "00:00:00.500";
        info.Environment["ModelOpt__Worker__HeartbeatTimeout"] = "00:00:05";
        info.Environment["ModelOpt__Worker__OrphanSweepInterval"] = "00:00:02";
        info.Environment["ModelOpt__Workers__HeartbeatInterval"] = ServiceFactory.WorkerHeartbeatInterval;
        info.Environment["ModelOpt__Workers__LostAfter"] = ServiceFactory.WorkerLostAfter;
        info.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>SIGKILL: no shutdown hook, no release of the running job, as in a crash or an OOM kill.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            Kill();
        }
        process.Dispose();
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
    }
}

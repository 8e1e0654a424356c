using System.Diagnostics;
using System.Text.Json;

namespace ModelOpt.Service.Tests;

/// <summary>
/// Issue 27: the API started as its own process with its artifact store on an 8 MiB tmpfs (a real full disk: ENOSPC from
/// the kernel, not a simulated one). Mounting needs root, as CI runs; elsewhere the test is skipped and says why.
/// </summary>
public sealed class DiskFullTests
{
    private const long MinFreeBytes = 2L << 20;

    [SkippableFact]
    public async Task An_upload_that_does_not_fit_is_a_507_with_health_degraded_nothing_half_written_and_it_succeeds_once_space_returns()
    {
        using var disk = SmallTmpfs.Mount(8);
        var store = Path.Combine(disk.Path, "artifacts");
        await using var api = await ApiProcess.StartAsync(RepositoryPaths.Root, new Dictionary<string, string>
        {
            ["ModelOpt__Worker__Embedded"] = "false",
            ["ModelOpt__Storage__ArtifactRoot"] = store,
            ["ModelOpt__Storage__MinFreeBytes"] = MinFreeBytes.ToString(),
        });
        using var client = api.CreateClient();
        Assert.Equal("Healthy", await ArtifactStoreHealthAsync(client));
        var checkpoint = TestCheckpoints.Safetensors(1_000_000); // 4 MB: fits the empty disk, not the filled one

        // Leave 1 MiB free: below the 2 MiB threshold, and less than the upload.
        var filler = Path.Combine(disk.Path, "filler");
        await File.WriteAllBytesAsync(filler, new byte[new DriveInfo(disk.Path).AvailableFreeSpace - (1L << 20)]);
        Assert.Equal("Degraded", await ArtifactStoreHealthAsync(client));
        var refused = await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(checkpoint, "model.safetensors"));

        var problem = await refused.ProblemAsync(HttpStatusCode.InsufficientStorage);
        Assert.Contains("disk is full", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain(disk.Path, problem.ToString());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/checkpoints")).GetProperty("totalCount").GetInt32());
        Assert.Empty(StoredFiles(store));

        File.Delete(filler);
        Assert.Equal("Healthy", await ArtifactStoreHealthAsync(client));
        var stored = await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(checkpoint, "model.safetensors"));
        Assert.True(stored.StatusCode == HttpStatusCode.Created, await stored.Content.ReadAsStringAsync());
        var sha256 = (await stored.ReadAsync<CheckpointDto>()).Sha256;
        Assert.Equal(sha256, TestCheckpoints.Sha256(await File.ReadAllBytesAsync(Path.Combine(store, Assert.Single(StoredFiles(store))))));
    }

    /// <summary>The store's files, its health probes left out.</summary>
    private static List<string> StoredFiles(string store) =>
        Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(store, f))
            .Where(f => !f.StartsWith(".tmp/health-", StringComparison.Ordinal))
            .ToList();

    private static async Task<string> ArtifactStoreHealthAsync(HttpClient client)
    {
        var health = await client.GetFromJsonAsync<JsonElement>("/health");
        return health.GetProperty("checks").GetProperty("artifact-store").GetProperty("status").GetString()!;
    }

    /// <summary>A tmpfs of a few MiB mounted on a fresh folder; unmounted and removed on dispose.</summary>
    private sealed class SmallTmpfs : IDisposable
    {
        private SmallTmpfs(string path) => Path = path;

        public string Path { get; }

        public static SmallTmpfs Mount(int mebibytes)
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "tmpfs is Linux's.");
            var path = Directory.CreateTempSubdirectory("modelopt-tmpfs-").FullName;
            var (exitCode, error) = Run("mount", "-t", "tmpfs", "-o", $"size={mebibytes}m", "tmpfs", path);
            if (exitCode != 0)
            {
                Directory.Delete(path);
            }
            Skip.If(exitCode != 0, $"Cannot mount a tmpfs (needs root, as CI runs): {error}");
            return new SmallTmpfs(path);
        }

        public void Dispose()
        {
            Run("umount", Path);
            Directory.Delete(Path, recursive: true);
        }

        private static (int ExitCode, string Error) Run(string command, params string[] arguments)
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
                var error = process.StandardError.ReadToEnd();
                process.WaitForExit();
                return (process.ExitCode, error.Trim());
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return (-1, $"'{command}' cannot be run ({e.Message})");
            }
        }
    }
}

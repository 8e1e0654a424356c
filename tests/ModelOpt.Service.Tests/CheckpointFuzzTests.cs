using System.Diagnostics;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Testing;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ModelOpt.Service.Tests;

/// <summary>
/// A seeded fuzz run: 2 500 mutants of small honest checkpoints in every format, each through the worker's reader
/// (<see cref="CheckpointReader.Read(Stream, string)"/>, as a job loads its checkpoint) and through the upload endpoint,
/// half of them naming a model. Zero crashes, zero 5xx, no more managed allocation than the file's bounded expansion,
/// and every refusal a 4xx problem that gives a reason.
/// </summary>
public sealed class CheckpointFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Seed = 20261201;
    private const int Mutants = 2500;

    private TestPostgres db = null!;
    private ServiceFactory factory = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        var settings = ServiceFactory.Postgres(db, embeddedWorker: false);
        settings["ModelOpt:RateLimit:PermitsPerSecond"] = "1000000";
        settings["ModelOpt:RateLimit:Burst"] = "1000000";
        factory = new ServiceFactory(settings);
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Mutated_checkpoints_never_crash_the_reader_or_the_upload_and_every_refusal_says_why()
    {
        using var client = factory.CreateClient();
        var seeds = Seeds();
        var mutator = new CheckpointMutator(Seed);
        var kinds = Enum.GetValues<Mutation>();
        var failures = new List<string>();
        var readerOutcomes = new Dictionary<string, int>();
        var uploadOutcomes = new Dictionary<int, int>();
        var stopwatch = Stopwatch.StartNew();

        for (var i = 0; i < Mutants; i++)
        {
            var (seedName, seedFile) = seeds[i % seeds.Count];
            var kind = kinds[i / seeds.Count % kinds.Length];
            var mutant = mutator.Mutate(seedFile, kind);
            var label = $"#{i} {kind} of {seedName} ({mutant.Length} bytes)";

            var outcome = ReadAsWorker(mutant, label, failures);
            readerOutcomes[outcome] = readerOutcomes.GetValueOrDefault(outcome) + 1;

            var response = await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(mutant, $"mutant-{i}.bin", i / (seeds.Count * kinds.Length) % 2 == 0 ? "resnet20" : null));
            var status = (int)response.StatusCode;
            uploadOutcomes[status] = uploadOutcomes.GetValueOrDefault(status) + 1;
            var body = await response.Content.ReadAsStringAsync();
            if (status >= 500 || (status >= 400 && !HasReason(body)) || status is not (201 or 400 or 413 or 422))
            {
                failures.Add($"{label}: upload answered {status}: {body}");
            }
        }
        stopwatch.Stop();

        output.WriteLine($"Fuzz seed {Seed}: {Mutants} mutants of {seeds.Count} seeds in {stopwatch.Elapsed.TotalSeconds:F1} s "
                         + $"({Mutants / stopwatch.Elapsed.TotalSeconds:F0} mutants/s, reader and upload each).");
        output.WriteLine($"Worker's reader: {string.Join(", ", readerOutcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}.");
        output.WriteLine($"Upload: {string.Join(", ", uploadOutcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} x {o.Value}"))}.");
        Assert.True(failures.Count == 0, $"{failures.Count} failures; first: {string.Join("\n", failures.Take(5))}");
        // The mutations must bite: most mutants are refused, by the reader and at upload.
        Assert.True(readerOutcomes.GetValueOrDefault("refused") > Mutants / 2, string.Join(", ", readerOutcomes));
        Assert.True(uploadOutcomes.Where(o => o.Key >= 400).Sum(o => o.Value) > Mutants / 2, string.Join(", ", uploadOutcomes));
    }

    private static string ReadAsWorker(byte[] mutant, string label, List<string> failures)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        try
        {
            using var checkpoint = CheckpointReader.Read(new MemoryStream(mutant), "mutant.pth");
            outcome = "read";
        }
        catch (CheckpointFormatException e)
        {
            outcome = "refused";
            if (!e.Message.StartsWith("'mutant.pth' is not a readable checkpoint: ", StringComparison.Ordinal) || e.Problem.Length < 10)
            {
                failures.Add($"{label}: reader's refusal gives no reason: {e.Message}");
            }
        }
        catch (Exception e)
        {
            outcome = e.GetType().Name;
            failures.Add($"{label}: reader threw {e}");
        }
        // Compressed entries may expand 4x (the reader's bound) and are read once into bytes and once into tensors.
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > 8L * mutant.Length + 2 * 1024 * 1024)
        {
            failures.Add($"{label}: reader allocated {allocated} bytes");
        }
        return outcome;
    }

    private static bool HasReason(string body) =>
        body.Contains("\"detail\":\"", StringComparison.Ordinal) || body.Contains("\"errors\":{", StringComparison.Ordinal);

    // Small honest checkpoints: the hand-built torch.save layout, and a small model written in each of the engine's formats.
    private static List<(string Name, byte[] File)> Seeds()
    {
        using var model = nn.Sequential(("conv1", nn.Conv2d(1, 4, 3)), ("bn1", nn.BatchNorm2d(4)), ("fc", nn.Linear(8, 2)));
        var seeds = new List<(string, byte[])> { ("hand-built torch.save", HostileCheckpoints.SmallPth()) };
        foreach (var format in new[] { CheckpointFormat.PyTorch, CheckpointFormat.Safetensors, CheckpointFormat.TorchSharp })
        {
            using var memory = new MemoryStream();
            CheckpointWriter.Save(model, memory, format);
            seeds.Add(($"{format} written by the engine", memory.ToArray()));
        }
        return seeds;
    }
}

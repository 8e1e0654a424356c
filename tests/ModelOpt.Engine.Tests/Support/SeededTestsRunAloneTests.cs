using System.Text.RegularExpressions;

namespace ModelOpt.Engine.Tests.Support;

/// <summary>
/// A test that seeds torch's process-wide generator and draws from it gets the net and data it was written for only when
/// no test beside it draws in between: every test class that seeds must be in a collection xUnit does not run in
/// parallel. Three CI runs failed on a class that was not (GlobalGeneratorCollection says which).
/// </summary>
public sealed partial class SeededTestsRunAloneTests
{
    private static readonly string[] NotParallel =
    [
        nameof(GlobalGeneratorCollection), nameof(Runtime.QuantizedEngineCollection), nameof(TrainedResNet20Collection),
    ];

    [Fact]
    public void Every_test_class_that_seeds_the_global_generator_runs_alone()
    {
        var folder = TestsFolder();
        var seeding = Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (File: Path.GetRelativePath(folder, f), Text: File.ReadAllText(f)))
            .Where(f => Seeds().IsMatch(f.Text) && TestMethod().IsMatch(f.Text))
            .ToList();

        Assert.True(seeding.Count >= 10, $"found only {seeding.Count} seeding test files under {folder}: the scan is broken");
        var alone = seeding.Where(f => CollectionAttribute().Match(f.Text) is { Success: true } m && NotParallel.Contains(m.Groups[1].Value)).ToList();
        Assert.Equal([], seeding.Except(alone).Select(f => f.File).Order());
    }

    private static string TestsFolder()
    {
        var project = Path.Combine("tests", "ModelOpt.Engine.Tests", "ModelOpt.Engine.Tests.csproj");
        return Path.GetDirectoryName(Checkpoints.Fixtures.Above(project))
            ?? throw new DirectoryNotFoundException($"No {project} above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"\bmanual_seed\(|RandomZooModel\(")]
    private static partial Regex Seeds();

    [GeneratedRegex(@"\[(Fact|Theory|SkippableFact|SkippableTheory|SharedFixtureFact)\b")]
    private static partial Regex TestMethod();

    [GeneratedRegex(@"\[Collection\((\w+)\.Name\)\]")]
    private static partial Regex CollectionAttribute();
}

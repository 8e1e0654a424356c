using System.Globalization;
using System.Text.RegularExpressions;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Service.Tests;

/// <summary>
/// Every int8 manifest that did not measure its own calibration spread carries <see cref="CalibrationSpread.OnBenchmarkModels"/>,
/// figures measured once and written up in docs/BENCHMARKS.md: the two must say the same, or the manifest cites a table
/// that no longer holds its numbers.
/// </summary>
public sealed partial class CalibrationSpreadDocsTests
{
    private const string Section = "## Calibration sample size";

    [Fact]
    public void The_benchmark_spreads_a_manifest_carries_are_the_ones_docs_benchmarks_tables()
    {
        var section = BenchmarksSection();
        var testImages = CalibrationSpread.OnBenchmarkModels.Benchmarks.Select(b => b.TestImages).Distinct().Single();
        Assert.Contains($"--test-subset {testImages}", section, StringComparison.Ordinal);
        var rows = TableRows(section);
        var bullets = section.Split("\n- ");
        foreach (var benchmark in CalibrationSpread.OnBenchmarkModels.Benchmarks)
        {
            var what = $"{benchmark.Model}, {benchmark.Images} {benchmark.Sampling} images, {benchmark.Observer}";
            Assert.Equal("stratified", benchmark.Sampling);
            var spread = string.Create(CultureInfo.InvariantCulture, $"{benchmark.SpreadPoints:F2} pt");
            if (benchmark.Observer == ActivationObserverNames.Histogram)
            {
                Assert.True(rows.TryGetValue((benchmark.Model, benchmark.Images), out var row), $"{what}: no row in the table of \"{Section}\"");
                Assert.Equal(benchmark.Seeds, row.Seeds);
                Assert.True(row.Spread == spread, $"{what}: the manifest says {spread}, docs/BENCHMARKS.md {row.Spread}");
            }
            else
            {
                // Another observer is measured in a bullet below the table, on the command's OBSERVER setting.
                var bullet = bullets.SingleOrDefault(b => b.Contains($"OBSERVER={benchmark.Observer}", StringComparison.Ordinal));
                Assert.True(bullet is not null, $"{what}: no bullet of \"{Section}\" names OBSERVER={benchmark.Observer}");
                Assert.Contains(benchmark.Model, bullet, StringComparison.Ordinal);
                Assert.Contains($"{benchmark.Images} images", bullet, StringComparison.Ordinal);
                Assert.Contains($"**{spread}**", bullet, StringComparison.Ordinal);
                Assert.Equal(benchmark.Seeds, SeedRange().Match(bullet) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1 : 0);
            }
        }
    }

    private static string BenchmarksSection()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "BENCHMARKS.md"));
        var start = text.IndexOf("\n" + Section, StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/BENCHMARKS.md has no section \"{Section}\" (CalibrationSpread.Source names it)");
        var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return text[start..(end < 0 ? text.Length : end)];
    }

    /// <summary>"| resnet20 (73.85 %) | 256 | 74.30 % | … | 0.25 pt | 0.7 s |": (model, images) → seeds and spread; a blank model cell repeats the row above's.</summary>
    private static Dictionary<(string Model, int Images), (int Seeds, string Spread)> TableRows(string section)
    {
        var rows = new Dictionary<(string, int), (int, string)>();
        var model = "";
        foreach (var line in section.Split('\n').Where(l => l.StartsWith('|')))
        {
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length < 4 || !int.TryParse(cells[1], NumberStyles.None, CultureInfo.InvariantCulture, out var images))
            {
                continue;
            }
            model = cells[0].Split(' ')[0] is { Length: > 0 } named ? named : model;
            rows[(model, images)] = (cells.Count(c => c.EndsWith(" %", StringComparison.Ordinal)), cells.Single(c => c.EndsWith(" pt", StringComparison.Ordinal)));
        }
        return rows;
    }

    [GeneratedRegex(@"over seeds 0-(\d+)")]
    private static partial Regex SeedRange();
}

using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Service.Tests;

/// <summary>
/// A job's settings have one shape (ADR-025): each section of the request is the engine's options record, stored as it
/// came and handed to the engine as it is stored; each default is written once, in that record's initializer.
/// </summary>
public sealed class JobSettingsTests
{
    /// <summary>A spec as the jobs table holds it, written by the service before the sections became the engine's records.</summary>
    private static readonly string StoredSpec = string.Concat("""
        {"training":{"epochs":3,"learningRate":0.05,"batchSize":32,"trainSubset":2000,"seed":7},
        "quantization":{"activationObserver":"percentile","percentile":99.9,"perChannelWeights":false,"symmetricActivations":true,
        "calibrationImages":64,"calibrationBatchSize":16,"keepFloat":["layer1.0.conv1","fc"],"sensitivityImages":100,"maxAccuracyDrop":null,
        "minSqnrDb":30,"minAgreement":0.99,"biasCorrection":true,"crossLayerEqualization":true,"calibrationSampling":"random","calibrationSeed":3},
        "evaluation":{"testSubset":500,"latencyBatchSize":32,"warmupRuns":1,"timedRuns":5},"compile":{"enabled":false},
        "preprocessing":{"resize":[36],"centerCrop":[32,30],"color":"grayscale","mean":[0.2],"std":[0.3],"antialias":true,"channelOrder":"bgr"},
        "split":{"testFraction":0.1,"seed":9},"output":{"name":"sequence_logits","task":"generic","classAxis":-1},
        "qat":{"enabled":true,"epochs":2,"learningRate":0.001,"batchSize":32,"distillation":false,"trainSubset":1000,"seed":4}}
        """.Split('\n').Select(line => line.Trim()));

    private static IEnumerable<PropertyInfo> Sections => typeof(JobSpec).GetProperties();

    [Fact]
    public void A_spec_stored_before_reads_into_the_engines_records_and_is_written_back_byte_for_byte()
    {
        var spec = JsonSerializer.Deserialize<JobSpec>(StoredSpec, JobSpec.Json)!;

        Assert.Equal(new TrainingOptions { Epochs = 3, LearningRate = 0.05, BatchSize = 32, TrainSubset = 2000, Seed = 7 }, spec.Training);
        Assert.Equal(["layer1.0.conv1", "fc"], spec.Quantization.KeepFloat);
        Assert.Equal(
            new QuantizationOptions
            {
                ActivationObserver = "percentile", Percentile = 99.9, PerChannelWeights = false, SymmetricActivations = true, CalibrationImages = 64,
                CalibrationBatchSize = 16, KeepFloat = spec.Quantization.KeepFloat, SensitivityImages = 100, MinSqnrDb = 30, MinAgreement = 0.99,
                BiasCorrection = true, CrossLayerEqualization = true, CalibrationSampling = CalibrationSampling.Random, CalibrationSeed = 3,
            },
            spec.Quantization);
        Assert.Equal(new EvaluationOptions { TestSubset = 500, LatencyBatchSize = 32, WarmupRuns = 1, TimedRuns = 5 }, spec.Evaluation);
        Assert.False(spec.Compile.Enabled);
        Assert.Equal((ColorConversion.Grayscale, ChannelOrder.Bgr, true), (spec.Preprocessing.Color, spec.Preprocessing.ChannelOrder, spec.Preprocessing.Antialias));
        Assert.Equal([36], spec.Preprocessing.Resize!);
        Assert.Equal([32, 30], spec.Preprocessing.CenterCrop!);
        Assert.Equal([0.2], spec.Preprocessing.Mean!);
        Assert.Equal([0.3], spec.Preprocessing.Std!);
        Assert.Equal((0.1, 9), (spec.Split.TestFraction, spec.Split.Seed));
        Assert.Equal(new OutputOptions { Name = "sequence_logits", Task = JobTask.Generic, ClassAxis = -1 }, spec.Output);
        Assert.Equal(new ModelOpt.Engine.Quantization.Qat.QatOptions { Enabled = true, Epochs = 2, LearningRate = 0.001, BatchSize = 32, Distillation = false, TrainSubset = 1000, Seed = 4 }, spec.Qat);
        // Written back as it was, but for qat.auto, quantization.calibrationSpreadSeeds and compile.scoreEveryForm, added since that spec was stored: written with their defaults.
        Assert.Equal(
            StoredSpec.Replace("""{"enabled":true,"epochs":2""", """{"enabled":true,"auto":false,"epochs":2""")
                .Replace("\"calibrationSeed\":3}", "\"calibrationSeed\":3,\"calibrationSpreadSeeds\":0}")
                .Replace("\"compile\":{\"enabled\":false}", "\"compile\":{\"enabled\":false,\"scoreEveryForm\":false}"),
            JsonSerializer.Serialize(spec, JobSpec.Json));
    }

    [Fact]
    public void A_stored_spec_without_newer_sections_or_fields_reads_with_their_defaults()
    {
        var spec = JsonSerializer.Deserialize<JobSpec>("""{"training":{"epochs":2},"quantization":{"keepFloat":null}}""", JobSpec.Json)!;

        Assert.Equal(new TrainingOptions { Epochs = 2 }, spec.Training);
        Assert.Empty(spec.Quantization.KeepFloat);
        Assert.Equal(new QuantizationOptions { KeepFloat = spec.Quantization.KeepFloat }, spec.Quantization);
        Assert.Equal((new OutputOptions(), new ModelOpt.Engine.Quantization.Qat.QatOptions()), (spec.Output, spec.Qat));
    }

    [Fact]
    public void The_request_the_stored_spec_and_the_engines_request_hold_the_same_section_types()
    {
        var engineParameters = typeof(OptimizationRequest).GetConstructors().Single().GetParameters().Select(p => p.ParameterType).ToHashSet();
        foreach (var section in Sections)
        {
            Assert.Equal(typeof(OptimizationRequest).Assembly, section.PropertyType.Assembly);
            Assert.Equal(section.PropertyType, typeof(CreateJobRequest).GetProperty(section.Name)!.PropertyType);
            Assert.Contains(Nullable.GetUnderlyingType(section.PropertyType) ?? section.PropertyType, engineParameters);
        }
        Assert.Equal(Sections.Count(), typeof(CreateJobRequest).GetProperties().Count(p => p.PropertyType.Assembly == typeof(OptimizationRequest).Assembly));
    }

    [Fact]
    public void Each_settings_default_is_written_once_in_its_records_initializer()
    {
        foreach (var section in Sections)
        {
            // A parameterless constructor alone: no default can hide in a constructor parameter beside the initializer.
            var constructor = Assert.Single(section.PropertyType.GetConstructors());
            Assert.Empty(constructor.GetParameters());
        }
        var restated = new List<string>();
        var files = SourceAndDocumentFiles().Select(f => (Path: f, Text: File.ReadAllText(f))).ToList();
        foreach (var section in Sections)
        {
            var defaults = Activator.CreateInstance(section.PropertyType)!;
            foreach (var property in section.PropertyType.GetProperties().Where(p => p.CanWrite && p.GetCustomAttribute<JsonIgnoreAttribute>() is null))
            {
                if (Literal(property.GetValue(defaults)) is not { } literal)
                {
                    continue;
                }
                // The section and then the setting with its default value, in JSON ("quantization": {… "calibrationImages": 256),
                // a JsonObject (["evaluation"] = new JsonObject { ["warmupRuns"] = 5) or an initializer (Qat = new() { BatchSize = 64 }).
                var restatement = new Regex(
                    $@"\b{section.Name}""?\]?\s*[:=]\s*(?:new\b[^{{}};]*)?\{{[^{{}}]*?\b{property.Name}""?\]?\s*[:=]\s*""?{Regex.Escape(literal)}""?(?![\w.])",
                    RegexOptions.IgnoreCase);
                // A fallback in the engine such as "options.ActivationObserver ?? "histogram"" is a second default.
                var fallback = new Regex($@"\.{property.Name}\s*\?\?");
                restated.AddRange(files
                    .Where(f => !f.Text.Contains($"record {section.PropertyType.Name}", StringComparison.Ordinal))
                    .Where(f => restatement.IsMatch(f.Text) || (f.Path.Contains($"{Path.DirectorySeparatorChar}ModelOpt.Engine{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && fallback.IsMatch(f.Text)))
                    .Select(f => $"{Path.GetRelativePath(RepositoryPaths.Root, f.Path)}: {section.Name.ToLowerInvariant()}.{property.Name} = {literal}"));
            }
        }
        Assert.Empty(restated);
    }

    [Fact]
    public void Settings_of_two_tasks_at_once_or_the_batch_axis_as_class_axis_are_refused_by_field()
    {
        var request = new CreateJobRequest
        {
            Model = "resnet20", Dataset = "synthetic",
            Quantization = new() { MaxAccuracyDrop = 0.5, MinSqnrDb = 30 },
            Output = new() { ClassAxis = 0 },
        };

        var errors = ModelOpt.Api.Infrastructure.RequestValidator.Validate(request);

        Assert.Contains("give one or the other", Assert.Single(errors["quantization.maxAccuracyDrop"]));
        Assert.Contains("classAxis 0 is the batch axis", Assert.Single(errors["output.classAxis"]));
        Assert.Equal(2, errors.Count);
    }

    /// <summary>A default as text appears in JSON or C#; null and lists have none to restate.</summary>
    private static string? Literal(object? value) => value switch
    {
        bool b => b ? "true" : "false",
        string s => s,
        Enum e => e.GetType().GetField(e.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? e.ToString(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => null,
    };

    /// <summary>The service's code, pages and configuration, and the README and docs (the generated OpenAPI snapshot aside).</summary>
    private static IEnumerable<string> SourceAndDocumentFiles()
    {
        var root = RepositoryPaths.Root;
        var source = Directory.EnumerateFiles(Path.Combine(root, "src"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".cshtml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "Migrations" or "Generated"));
        var documents = Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Append(Path.Combine(root, "README.md"));
        return source.Concat(documents);
    }
}

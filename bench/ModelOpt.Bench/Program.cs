using ModelOpt.Bench;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Runtime;
using TorchSharp;

if (args.Contains("--help"))
{
    Console.WriteLine(BenchArguments.Usage);
    Console.WriteLine(InterpreterMemoryBench.Usage);
    Console.WriteLine(OnnxEqualityCheck.Usage);
    Console.WriteLine(Int8Outputs.Usage);
    Console.WriteLine(Fp32LatencyBench.Usage);
    return 0;
}
if (args.FirstOrDefault() == OnnxEqualityCheck.Command)
{
    return OnnxEqualityCheck.Run(args[1..]);
}
if (args.FirstOrDefault() == Int8Outputs.Command)
{
    return Int8Outputs.Run(args[1..]);
}
if (args.FirstOrDefault() == Fp32LatencyBench.Command)
{
    return Fp32LatencyBench.Run(args[1..]);
}
if (args.FirstOrDefault() == InterpreterMemoryBench.Command)
{
    return InterpreterMemoryBench.Run(args[1..]);
}

BenchArguments arguments;
try
{
    arguments = BenchArguments.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or DatasetException or IOException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchArguments.Usage);
    return 2;
}
if (arguments.Threads is { } threads)
{
    torch.set_num_threads(threads);
}

var request = arguments.Request;
var workDirectory = arguments.WorkDirectory ?? Directory.CreateTempSubdirectory("modelopt-bench-").FullName;
Console.WriteLine($"{request.Model} on {request.Dataset}, {torch.get_num_threads()} threads, quantized engine {QuantizedEngine.Current}, work folder {workDirectory}");

var stages = OptimizationPipeline.StagesFor(request)
    .Where(s => (!arguments.Fp32Only || s is PipelineStage.Train or PipelineStage.EvaluateFp32) && (arguments.Compile || s != PipelineStage.Compile));
var outcomes = new Dictionary<PipelineStage, StageOutcome>();
var pipeline = new OptimizationPipeline();
try
{
    foreach (var stage in stages)
    {
        outcomes[stage] = await pipeline.RunStageAsync(stage, request, workDirectory, new ConsoleProgress(), CancellationToken.None);
        Console.WriteLine($"\r{stage}: {outcomes[stage].Duration.TotalSeconds:F1} s".PadRight(Console.IsOutputRedirected ? 0 : 100));
    }
}
catch (PipelineInputException e)
{
    Console.Error.WriteLine();
    Console.Error.WriteLine(e.Message);
    return 1;
}

var fp32 = outcomes[PipelineStage.EvaluateFp32].Results.Single();
var rows = new List<(string, StageMetrics)> { ("full", fp32) };
if (outcomes.TryGetValue(PipelineStage.Convert, out var convert))
{
    rows.Add(("quantized", convert.Results.Single(m => m.Selected)));
    rows.AddRange(convert.Results.Where(m => !m.Selected).Select(m => ("  all int8", m)));
}
if (outcomes.TryGetValue(PipelineStage.Compile, out var compile))
{
    rows.Add(("optimized", compile.Results.Single(m => m.Selected)));
    rows.AddRange(compile.Results.Select(m => ("  candidate", m)));
}
Console.WriteLine();
Console.Write(NotebookTable.Format(rows, fp32));
if (rows.Any(row => row.Item2.Fidelity is { Count: > 0 }))
{
    Console.WriteLine();
    Console.Write(FidelityTable.Format(rows));
}
return 0;

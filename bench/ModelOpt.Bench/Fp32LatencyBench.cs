using System.Diagnostics;
using System.Globalization;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Runtime.Onnx;
using static TorchSharp.torch;

namespace ModelOpt.Bench;

/// <summary>
/// ModelOpt's eager FP32 of an ONNX file (<see cref="Fp32Model.Forward"/>, what the EvaluateFp32 stage times) against
/// ONNX Runtime FP32 on the same file, in one process, interleaved round by round (<see cref="InterleavedLatency"/>),
/// as the compile stage loads ONNX Runtime (no spinning, the same threads). With <c>--profile true</c> it also times
/// each node of the eager graph: the time between one value's production and the next, summed per op kind.
/// </summary>
internal static class Fp32LatencyBench
{
    public const string Command = "fp32-latency";

    public const string Usage = $"usage: ModelOpt.Bench {Command} FILE.onnx [--batch N] [--runs N] [--threads N] [--profile true]";

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count % 2 != 1)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var path = args[0];
        var options = new Dictionary<string, string>();
        for (var i = 1; i < args.Count; i += 2)
        {
            if (args[i] is not ("--batch" or "--runs" or "--threads" or "--profile"))
            {
                Console.Error.WriteLine(Usage);
                return 2;
            }
            options[args[i][2..]] = args[i + 1];
        }
        int Int(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var batch = Int("batch", 128);
        var runs = Int("runs", 20);
        set_num_threads(Int("threads", 2));

        long[] inputShape;
        using (var probe = OnnxImporter.Import(path))
        {
            inputShape = probe.InputShape;
        }
        using var model = Fp32Model.FromOnnx(path, inputShape, numClasses: null);
        using var runtime = OnnxRuntimeModel.Load(path, new OnnxRuntimeOptions(IntraOpThreads: get_num_threads(), AllowSpinning: false));
        Console.WriteLine($"{Path.GetFileName(path)}: input [{string.Join(", ", inputShape)}], batch {batch}, {get_num_threads()} threads, {runs} interleaved rounds");

        var evaluation = new EvaluationOptions { LatencyBatchSize = batch, WarmupRuns = 3, TimedRuns = runs };
        var results = InterleavedLatency.Measure([model.Forward, runtime.Run], inputShape, evaluation);
        var (eager, ort) = (results[0], results[1]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"eager FP32 {eager.MeanMs:F2} ± {eager.StdMs:F2} ms (median {eager.MedianMs:F2}); ONNX Runtime FP32 {ort.MeanMs:F2} ± {ort.StdMs:F2} ms (median {ort.MedianMs:F2}); eager / ORT {eager.MeanMs / ort.MeanMs:F2}x"));

        if (options.GetValueOrDefault("profile") == "true")
        {
            Profile(ChannelsLast.Apply(model.Graph), inputShape, batch, runs);
        }
        return 0;
    }

    // LibTorch's CPU ops are synchronous: the time from one value's arrival to the next is that node's cost, its
    // dispatch and the freeing of values it read last included.
    private static void Profile(ModelGraph eagerGraph, long[] inputShape, int batch, int runs)
    {
        using var graph = eagerGraph;
        using var noGrad = no_grad();
        using var input = rand([batch, .. inputShape]);
        var perNode = new double[graph.Nodes.Count];
        var index = graph.Nodes.Select((n, i) => (n.Output, i)).ToDictionary(p => p.Output, p => p.i);
        for (var run = -2; run < runs; run++)
        {
            var clock = Stopwatch.StartNew();
            var last = 0.0;
            using var output = GraphInterpreter.Run(graph, input, (value, _) =>
            {
                var now = clock.Elapsed.TotalMilliseconds;
                if (run >= 0)
                {
                    perNode[index[value]] += now - last;
                }
                last = now;
            });
        }
        var total = perNode.Sum();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"per-node profile: {total / runs:F2} ms a forward (mean of {runs})"));
        static string Kind(GraphNode node) => node switch
        {
            FloatOpNode op => op.Op.OpType,
            Conv2dNode conv => conv.Groups > 1 && conv.Groups == conv.Weight.shape[0] ? "Conv2d(depthwise)" : "Conv2d",
            _ => node.GetType().Name.Replace("Node", "", StringComparison.Ordinal),
        };
        foreach (var group in graph.Nodes.Select((n, i) => (Kind: Kind(n), Ms: perNode[i] / runs)).GroupBy(p => p.Kind).OrderByDescending(g => g.Sum(p => p.Ms)))
        {
            var ms = group.Sum(p => p.Ms);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {group.Key,-22} {group.Count(),4} nodes {ms,8:F2} ms {100 * ms / (total / runs),5:F1} %"));
        }
        Console.WriteLine("  slowest nodes:");
        foreach (var (node, ms) in graph.Nodes.Select((n, i) => (n, perNode[i] / runs)).OrderByDescending(p => p.Item2).Take(8))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {ms,7:F2} ms {Kind(node)} {Describe(node)}"));
        }
    }

    private static string Describe(GraphNode node) => node switch
    {
        Conv2dNode conv => $"{conv.Name} weight [{string.Join(", ", conv.Weight.shape)}] stride {conv.Stride[0]} groups {conv.Groups}",
        MaxPool2dNode pool => $"kernel {pool.KernelSize[0]} stride {pool.Stride[0]}",
        AvgPool2dNode pool => $"kernel {pool.KernelSize[0]} stride {pool.Stride[0]}",
        _ => "",
    };
}

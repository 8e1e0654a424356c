// Op-by-op timing of a ModelOpt int8 TorchScript archive that opsplit.py rewrote: forward once for every intermediate
// value, then each line of forward alone (the archive's op(k, vals)) on those values, median of ROUNDS calls, with the
// value's shape, dtype and layout. A line's helper lines (names other than q_/u_/f_/t_) are inlined into it by opsplit.py,
// so a line that reads a helper more than once is timed with it re-run: an upper bound. The pools' t_ temporaries
// (padded values, row maxima or sums) are lines of their own.
//   Int8OpProfile ARCHIVE.pt X86|OneDnn [ROUNDS]
// With --batch-split (batch-split.sh; any archive, not rewritten), times instead the 128 images as one forward and as
// chunks of 64, 32 and 16 run one after the other, then 128 and 32 again (the first size also pays the first shapes'
// set-up): would the activations that do not fit the caches at batch 128 pay for the per-op cost each forward adds?
//   Int8OpProfile ARCHIVE.pt X86|OneDnn ROUNDS --batch-split
// With --time (bench_int8_limit.py paired), times the whole forward at batch 128: WARMUPS untimed, then the median of ROUNDS.
//   Int8OpProfile ARCHIVE.pt X86|OneDnn ROUNDS --time WARMUPS
// THREADS (environment) sets the thread count, 2 when unset.
using System.Diagnostics;
using System.Globalization;
using ModelOpt.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

var path = args[0];
var engine = Enum.Parse<QEngine>(args[1]);
var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
set_num_threads(int.Parse(Environment.GetEnvironmentVariable("THREADS") ?? "2", CultureInfo.InvariantCulture));
QuantizedEngine.Current = engine;
using var module = jit.load(path);
module.eval();
using var noGrad = no_grad();
manual_seed(0);
using var x = rand(128, 1, 32, 32);

static double Median(List<double> values)
{
    values.Sort();
    return values[values.Count / 2];
}

// The wall-clock time of `run`, in ms, for `rounds` calls after `warmups` untimed ones.
List<double> Timings(int warmups, Action run)
{
    for (var w = 0; w < warmups; w++)
    {
        run();
    }
    var times = new List<double>(rounds);
    for (var r = 0; r < rounds; r++)
    {
        var clock = Stopwatch.StartNew();
        run();
        times.Add(clock.Elapsed.TotalMilliseconds);
    }
    return times;
}

void Forward(Tensor input) => ((Tensor)module.forward(input)).Dispose();

if (Array.IndexOf(args, "--time") is var timeAt and >= 0)
{
    var forwardTimes = Timings(int.Parse(args[timeAt + 1], CultureInfo.InvariantCulture), () => Forward(x));
    Console.WriteLine($"forward median {Median(forwardTimes):F2} ms (min {forwardTimes.Min():F2}) over {rounds} runs");
    return;
}

if (args.Contains("--batch-split"))
{
    foreach (var chunk in new[] { 128, 64, 32, 16, 128, 32 })
    {
        var parts = x.split(chunk);
        var chunkTimes = Timings(3, () =>
        {
            var outputs = parts.Select(part => (Tensor)module.forward(part)).ToArray();
            using var y = cat(outputs, 0);
            foreach (var output in outputs)
            {
                output.Dispose();
            }
        });
        Console.WriteLine($"chunk {chunk,3}: forward of 128 images median {Median(chunkTimes):F2} ms (min {chunkTimes.Min():F2})");
        foreach (var part in parts)
        {
            part.Dispose();
        }
    }
    return;
}

var steps = File.ReadAllLines(path + ".steps");

var whole = Timings(3, () => Forward(x));
var values = new List<Tensor> { x };
for (var k = 0; k < steps.Length; k++)
{
    values.Add((Tensor)module.invoke("op", (long)k, values.ToArray()));
}
var times = new double[steps.Length];
var operands = values.ToArray();
for (var k = 0; k < steps.Length; k++)
{
    var line = (long)k;
    times[k] = Median(Timings(2, () => ((Tensor)module.invoke("op", line, operands)).Dispose()));
}
var sum = times.Sum();
Console.WriteLine($"forward median {Median(whole):F2} ms; sum of line medians {sum:F2} ms");
for (var k = 0; k < steps.Length; k++)
{
    var v = values[k + 1];
    var layout = v.dim() != 4 ? "-" : v.stride(1) == 1 && v.shape[1] > 1 ? "NHWC" : "NCHW";
    Console.WriteLine($"{k,3} {times[k],8:F3} ms {100 * times[k] / sum,5:F1} % {layout} [{string.Join(",", v.shape)}] {v.dtype} {steps[k]}");
}

// Whether an int8 TorchScript archive runs 128 images faster in smaller batches, one after the other (issue 28: would the
// activations of MobileNetV2's expanded layers, too large for the caches at batch 128, pay for the per-op overhead that
// every extra forward adds?). Median of ROUNDS forwards of the whole 128 images, split into chunks of 128, 64, 32 and
// 16, then 128 and 32 again (the first chunk size also pays the first shapes' set-up).
//   Int8BatchSplit ARCHIVE.pt X86|OneDnn [ROUNDS]
using System.Diagnostics;
using System.Globalization;
using ModelOpt.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

var path = args[0];
var engine = Enum.Parse<QEngine>(args[1]);
var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
set_num_threads(2);
QuantizedEngine.Current = engine;
using var module = jit.load(path);
module.eval();
using var noGrad = no_grad();
manual_seed(0);
using var x = rand(128, 1, 32, 32);
static double Median(List<double> values) { values.Sort(); return values[values.Count / 2]; }
foreach (var chunk in new[] { 128, 64, 32, 16, 128, 32 })
{
    var parts = x.split(chunk);
    var times = new List<double>();
    for (var r = 0; r < rounds + 3; r++)
    {
        var clock = Stopwatch.StartNew();
        var outs = parts.Select(p => (Tensor)module.forward(p)).ToArray();
        using var y = cat(outs, 0);
        foreach (var o in outs)
        {
            o.Dispose();
        }
        if (r >= 3)
        {
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
    }
    Console.WriteLine($"chunk {chunk,3}: forward of 128 images median {Median(times):F2} ms (min {times.Min():F2})");
    foreach (var p in parts)
    {
        p.Dispose();
    }
}

using System.Text;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Models;
using Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>
/// ONNX's own backend conformance tests (Debian's <c>libonnx-testdata</c>): every node test whose ops ModelOpt maps is
/// imported (graph inputs after the data input become constants, as an exporter writes weights), run in FP32 and
/// compared with the expected output at ONNX's tolerances, a 4-D input also as the eager FP32 model runs it
/// (channels-last). A test ModelOpt refuses is listed with the reason; a wrong number fails.
/// </summary>
public class OnnxBackendNodeTests(ITestOutputHelper output)
{
    public const string NodeTests = "/usr/share/libonnx-testdata/data/node";
    private const double RelativeTolerance = 1e-3;
    private const double AbsoluteTolerance = 1e-7;

    private sealed record Outcome(string Test, string Ops, string Result, string? Detail);

    [OnnxTestDataFact]
    public void Every_mapped_node_test_gives_the_expected_numbers_or_is_refused_with_a_reason()
    {
        var supported = OnnxImporter.SupportedOps.ToHashSet();
        var outcomes = new List<Outcome>();
        var unmapped = 0;
        foreach (var directory in Directory.GetDirectories(NodeTests).Order(StringComparer.Ordinal))
        {
            var test = Path.GetFileName(directory);
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(directory, "model.onnx")));
            var ops = string.Join("+", model.Graph.Node.Select(n => n.OpType).Distinct());
            if (model.Graph.Node.Any(n => !supported.Contains(n.OpType) || n.Domain is not ("" or "ai.onnx")))
            {
                unmapped++; // Not a mapped op: refused at upload by name, as the import tests check.
                continue;
            }
            outcomes.Add(Run(test, ops, model, directory));
        }

        var report = new StringBuilder();
        foreach (var group in outcomes.GroupBy(o => o.Ops).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            report.AppendLine($"{group.Key}: {group.Count(o => o.Result == "pass")} pass, {group.Count(o => o.Result == "refused")} refused, {group.Count(o => o.Result == "WRONG")} wrong");
            foreach (var outcome in group.Where(o => o.Result != "pass"))
            {
                report.AppendLine($"    {outcome.Result} {outcome.Test}: {outcome.Detail}");
            }
        }
        var wrong = outcomes.Where(o => o.Result == "WRONG").ToList();
        report.Insert(0, $"ONNX backend node tests of mapped ops: {outcomes.Count(o => o.Result == "pass")} pass, " +
            $"{outcomes.Count(o => o.Result == "refused")} refused, {wrong.Count} wrong, of {outcomes.Count}; {unmapped} more use ops ModelOpt does not map.{Environment.NewLine}");
        output.WriteLine(report.ToString());

        Assert.True(outcomes.Count > 100, $"only {outcomes.Count} node tests of mapped ops were found under {NodeTests}");
        Assert.True(wrong.Count == 0, "wrong numbers: " + string.Join("; ", wrong.Select(w => $"{w.Test}: {w.Detail}")));
    }

    private static Outcome Run(string test, string ops, ModelProto model, string directory)
    {
        using var scope = NewDisposeScope();
        var dataSet = Path.Combine(directory, "test_data_set_0");
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        var values = inputs.Select((input, i) => ReadTensor(Path.Combine(dataSet, $"input_{i}.pb"))).ToList();
        if (values.Count == 0)
        {
            return new(test, ops, "refused", "the graph has no input");
        }
        if (values[0] is not { } data || (DataType)data.DataType is not (DataType.Float))
        {
            return new(test, ops, "refused", $"its first input is {(values[0] is { } v ? (DataType)v.DataType : "missing")}, not float (the data input must be float)");
        }
        var expectedProto = ReadTensor(Path.Combine(dataSet, "output_0.pb"));
        if (expectedProto is null || !OnnxTensorReader.TryRead(expectedProto, out var expected, out var unreadable))
        {
            return new(test, ops, "refused", $"its expected output cannot be read ({(expectedProto is null ? "missing" : (DataType)expectedProto.DataType)})");
        }
        var constants = new Dictionary<string, Tensor>();
        for (var i = 1; i < inputs.Count; i++)
        {
            if (values[i] is { } proto && OnnxTensorReader.TryRead(proto, out var constant, out _))
            {
                constants[inputs[i].Name] = constant;
            }
        }
        var input = OnnxTensorReader.Read(data);
        ModelGraph graph;
        try
        {
            graph = OnnxImporter.ImportGraph(model, test, constants, input.shape);
        }
        catch (UnsupportedOnnxModelException e)
        {
            return new(test, ops, "refused", string.Join(" ", e.Nodes.Select(n => n.Reason)));
        }
        using (graph)
        {
            Tensor actual;
            try
            {
                actual = GraphInterpreter.Run(graph, input);
            }
            catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
            {
                return new(test, ops, "WRONG", $"imported but does not run: {e.Message.Split('\n')[0]}");
            }
            var outcome = Compare(test, ops, actual, expected);
            return outcome.Result != "pass" || input.dim() != 4 ? outcome : CompareChannelsLast(test, ops, graph, input, expected);
        }
    }

    // A 4-D input also runs as Fp32Model.Forward runs an ONNX model: channels-last from the input on, no autograd
    // (ReLU and clamp then overwrite the fresh outputs they alone read).
    private static Outcome CompareChannelsLast(string test, string ops, ModelGraph graph, Tensor input, Tensor expected)
    {
        using var noGrad = no_grad();
        using var eager = ChannelsLast.Apply(graph);
        using var nhwc = ChannelsLast.Input(input);
        Tensor actual;
        try
        {
            actual = GraphInterpreter.Run(eager, nhwc);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
        {
            return new(test, ops, "WRONG", $"channels-last: does not run: {e.Message.Split('\n')[0]}");
        }
        using (actual)
        {
            var outcome = Compare(test, ops, actual, expected);
            return outcome.Result == "pass" ? outcome : outcome with { Detail = "channels-last: " + outcome.Detail };
        }
    }

    private static Outcome Compare(string test, string ops, Tensor actual, Tensor expected)
    {
        if (!actual.shape.SequenceEqual(expected.shape))
        {
            return new(test, ops, "WRONG", $"shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        }
        var a = actual.to_type(ScalarType.Float64);
        var e = expected.to_type(ScalarType.Float64);
        var bothNan = a.isnan() & e.isnan();
        var close = ((a - e).abs() <= AbsoluteTolerance + RelativeTolerance * e.abs()) | bothNan | (a == e);
        if (close.all().item<bool>())
        {
            return new(test, ops, "pass", null);
        }
        var worst = (a - e).abs().nan_to_num(1e30).max().item<double>();
        return new(test, ops, "WRONG", $"max |difference| {worst:G4} (of {close.logical_not().sum().item<long>()} values)");
    }

    private static TensorProto? ReadTensor(string path) =>
        File.Exists(path) ? TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)) : null;
}

/// <summary>A fact that needs Debian's libonnx-testdata; skipped, saying why, where it is not installed.</summary>
public sealed class OnnxTestDataFactAttribute : FactAttribute
{
    public OnnxTestDataFactAttribute()
    {
        if (!Directory.Exists(OnnxBackendNodeTests.NodeTests))
        {
            Skip = $"{OnnxBackendNodeTests.NodeTests} is missing: apt-get install libonnx-testdata (CI and scripts/test.sh install it).";
        }
    }
}

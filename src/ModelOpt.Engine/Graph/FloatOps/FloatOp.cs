using System.Globalization;
using Onnx;

namespace ModelOpt.Engine.Graph.FloatOps;

/// <summary>
/// One FP32 operation with everything every backend needs, in one place: its eager TorchSharp evaluation, its
/// TorchScript expression and its ONNX node(s). Attributes are the record's fields; tensor operands are graph values.
/// The importer also folds constants with <see cref="Evaluate"/>, so shape arithmetic and data ops share one semantics.
/// </summary>
public abstract record FloatOp
{
    /// <summary>The ONNX op type it stands for (named in the manifest's <c>fp32_nodes</c>).</summary>
    public abstract string OpType { get; }

    /// <summary>The result from the operands' values (the caller's dispose scope owns it).</summary>
    public abstract Tensor Evaluate(IReadOnlyList<Tensor> operands);

    /// <summary>A TorchScript expression of the operands' variable names.</summary>
    public abstract string TorchScript(IReadOnlyList<string> operands);

    /// <summary>Emits the ONNX node(s) reading the operands' names; returns the result's name.</summary>
    public abstract string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands);

    internal static string ScriptInts(IEnumerable<long> values)
    {
        var items = values.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToList();
        // An empty literal would be typed List[Tensor] by TorchScript.
        return items.Count == 0 ? "annotate(List[int], [])" : $"[{string.Join(", ", items)}]";
    }

    internal static string ScriptFloat(double value) => Runtime.TorchScript.TorchScriptInt8Generator.Float(value);

    internal static string ScriptBool(bool value) => value ? "True" : "False";

    public static long NormalizeAxis(long axis, long rank) => axis < 0 ? axis + rank : axis;
}

/// <summary>Where a <see cref="FloatOp"/> writes its ONNX nodes (the exporter's graph writer).</summary>
public interface IOnnxNodeSink
{
    /// <summary>Adds a node and returns its (first) output's name.</summary>
    string Node(string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes);

    /// <summary>Adds an initializer (copied) and returns its name.</summary>
    string Constant(string name, Tensor value);
}

/// <summary>
/// A shape whose entries may grow with the batch size: entry i is <c>Fixed[i] + PerBatch[i] * N</c>, N the first
/// dimension of the graph input, which a op using it reads as its last operand (the "batch source").
/// </summary>
public sealed record BatchDims(long[] Fixed, long[] PerBatch)
{
    public static BatchDims Of(long[] dims) => new(dims, new long[dims.Length]);

    public bool DependsOnBatch => PerBatch.Any(p => p != 0);

    public int Rank => Fixed.Length;

    public long[] Resolve(long batch) => [.. Fixed.Select((f, i) => f + PerBatch[i] * batch)];

    public long[] Resolve(IReadOnlyList<Tensor> operands) => DependsOnBatch ? Resolve(operands[^1].shape[0]) : Fixed;

    public string TorchScript(IReadOnlyList<string> operands)
    {
        if (!DependsOnBatch)
        {
            return FloatOp.ScriptInts(Fixed);
        }
        var batch = $"{operands[^1]}.size(0)";
        return "[" + string.Join(", ", Fixed.Select((f, i) => PerBatch[i] == 0
            ? f.ToString(CultureInfo.InvariantCulture)
            : $"{f.ToString(CultureInfo.InvariantCulture)} + {PerBatch[i].ToString(CultureInfo.InvariantCulture)} * {batch}")) + "]";
    }

    /// <summary>An int64 ONNX tensor of the dims: a constant, or Shape(batch source)[0] * PerBatch + Fixed.</summary>
    public string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands, string name)
    {
        using var fixedDims = torch.tensor(Fixed);
        var constant = sink.Constant(name, fixedDims);
        if (!DependsOnBatch)
        {
            return constant;
        }
        using var zero = torch.tensor(new long[] { 0 });
        using var one = torch.tensor(new long[] { 1 });
        using var perBatch = torch.tensor(PerBatch);
        var shape = sink.Node("Shape", [operands[^1]]);
        var batch = sink.Node("Slice", [shape, sink.Constant($"{name}.start", zero), sink.Constant($"{name}.end", one)]);
        var scaled = sink.Node("Mul", [batch, sink.Constant($"{name}.per_batch", perBatch)]);
        return sink.Node("Add", [scaled, constant]);
    }
}

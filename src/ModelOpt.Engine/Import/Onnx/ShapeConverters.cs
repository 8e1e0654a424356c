using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Graph.FloatOps;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Constants, pass-through ops, the data-movement ops (Transpose, Reshape, Flatten, Squeeze, Unsqueeze, Gather, Slice,
/// Split, Expand, Tile, Concat) and the shape arithmetic exporters emit around them (Shape, Size, ConstantOfShape,
/// Range, ScatterND, Cast), folded to constants where every input is one. A batch-dependent shape stays symbolic
/// (<see cref="BatchDims"/>), so <c>x.view(x.size(0), -1)</c> or <c>x.reshape(B * nW, ...)</c> runs at any batch size.
/// </summary>
internal static class ShapeConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("Constant", Constant),
        ("Identity", (c, node) => c.Alias(node.Output[0], node.Input[0])),
        ("Dropout", Dropout),
        ("Cast", (c, node) => Cast(c, node, (DataType)node.Int("to", 0))),
        ("CastLike", CastLike),
        ("Shape", Shape),
        ("Size", (c, node) => c.SetConstant(node.Output[0], tensor(ShapeOf(c, node.Input[0]).Aggregate(1L, (a, b) => a * b)))),
        ("ConstantOfShape", ConstantOfShape),
        ("Range", (c, node) => c.FoldConstant(node.Output[0], [.. node.Input], x => Range(x[0], x[1], x[2]))),
        ("ScatterND", ScatterND),
        ("Gather", Gather),
        ("Unsqueeze", (c, node) => Squeeze(c, node, unsqueeze: true)),
        ("Squeeze", (c, node) => Squeeze(c, node, unsqueeze: false)),
        ("Concat", Concat),
        ("Reshape", Reshape),
        ("Flatten", Flatten),
        ("Transpose", Transpose),
        ("Slice", Slice),
        ("Split", Split),
        ("Expand", Expand),
        ("Tile", Tile),
    ];

    private static void Constant(OnnxConversion c, NodeProto node)
    {
        using var scope = NewDisposeScope();
        var value = node.TensorAttribute("value") is { } proto ? OnnxTensorReader.Read(proto)
            : node.Attribute.Any(a => a.Name == "value_float") ? tensor(node.Float("value_float", 0))
            : node.Attribute.Any(a => a.Name == "value_int") ? tensor(node.Int("value_int", 0))
            : node.Ints("value_ints") is { } ints ? tensor(ints)
            : node.Floats("value_floats") is { } floats ? tensor(floats)
            : throw new OnnxNodeNotSupportedException("only tensor, float(s) and int(s) Constant values are mapped (no sparse or string values).");
        c.SetConstant(node.Output[0], value.MoveToOuterDisposeScope());
    }

    /// <summary>Inference: the output is the input and the mask all true; training mode is refused.</summary>
    private static void Dropout(OnnxConversion c, NodeProto node)
    {
        var ratio = node.OptionalInput(1) is { } r ? c.Constant(r).to_type(ScalarType.Float32).item<float>() : node.Float("ratio", 0.5f);
        if (node.OptionalInput(2) is { } training && c.Constant(training).to_type(ScalarType.Bool).item<bool>() && ratio != 0)
        {
            // With ratio 0 training mode is the identity too (torchvision's Swin exports its attention dropout so).
            throw new OnnxNodeNotSupportedException("Dropout in training mode is not mapped (export the model in eval mode).");
        }
        c.Alias(node.Output[0], node.Input[0]);
        if (node.Output.Count > 1 && node.Output[1].Length > 0 && c.Readers(node.Output[1]) > 0)
        {
            c.Apply(node.Output[1], new TrueLikeOp(), [node.Input[0]]);
        }
    }

    /// <summary>The importer's three tensor types: every float type is float32, every integer type int64.</summary>
    public static ScalarType? TypeOf(DataType type) => type switch
    {
        DataType.Float or DataType.Double or DataType.Float16 or DataType.Bfloat16 => ScalarType.Float32,
        DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64 or DataType.Uint8 or DataType.Uint16
            or DataType.Uint32 or DataType.Uint64 => ScalarType.Int64,
        DataType.Bool => ScalarType.Bool,
        _ => null,
    };

    private static void Cast(OnnxConversion c, NodeProto node, DataType to)
    {
        if (to == DataType.Bfloat16)
        {
            // ONNX's reference truncates to bfloat16 where PyTorch rounds to nearest: no one answer to give.
            throw new OnnxNodeNotSupportedException("Cast to bfloat16 is not mapped.");
        }
        var type = TypeOf(to) ?? throw new OnnxNodeNotSupportedException($"Cast to {to} is not mapped.");
        var input = node.Input[0];
        ScalarType? through = to switch
        {
            DataType.Float16 => ScalarType.Float16,
            _ => null,
        };
        if (through is null && c.IsData(input) && SampleType(c, input) == type)
        {
            c.Alias(node.Output[0], input);
            return;
        }
        var onnxTo = through is not null ? to : type == ScalarType.Float32 ? DataType.Float : type == ScalarType.Int64 ? DataType.Int64 : DataType.Bool;
        c.Apply(node.Output[0], new CastOp(type, (int)onnxTo, through), [input]);
    }

    private static void CastLike(OnnxConversion c, NodeProto node)
    {
        if (c.DeclaredType(node.Input[1]) is { } declared)
        {
            Cast(c, node, declared);
            return;
        }
        var target = c.IsConstant(node.Input[1]) ? c.FoldedConstant(node.Input[1]).At[0].dtype : SampleType(c, node.Input[1]);
        Cast(c, node, target switch
        {
            ScalarType.Float32 => DataType.Float,
            ScalarType.Bool => DataType.Bool,
            _ => DataType.Int64,
        });
    }

    private static ScalarType SampleType(OnnxConversion c, string name) => c.SampleOf(c.Data(name)).dtype;

    private static long[] ShapeOf(OnnxConversion c, string name) =>
        c.IsConstant(name) ? c.FoldedConstant(name).At[0].shape : c.ShapeOf(c.Data(name));

    private static void Shape(OnnxConversion c, NodeProto node)
    {
        var name = node.Input[0];
        var folded = c.IsConstant(name)
            ? new Folded([.. c.FoldedConstant(name).At.Select(t => tensor(t.shape))])
            : c.ShapeConstant(c.Data(name));
        var rank = folded.At[0].shape[0];
        long Clamp(long i) => Math.Clamp(i < 0 ? i + rank : i, 0, rank);
        var (start, end) = (Clamp(node.Int("start", 0)), Clamp(node.Int("end", rank)));
        c.SetConstant(node.Output[0], new Folded([.. folded.At.Select(t => t[(int)start..(int)Math.Max(start, end)])]));
    }

    private static void ConstantOfShape(OnnxConversion c, NodeProto node)
    {
        using var scope = NewDisposeScope();
        var fill = node.TensorAttribute("value") is { } proto ? OnnxTensorReader.Read(proto).reshape(1) : tensor(new[] { 0f });
        var shape = c.FoldedConstant(node.Input[0]);
        if (!shape.DependsOnBatch)
        {
            c.SetConstant(node.Output[0], fill.expand(shape.Longs[0]).contiguous().MoveToOuterDisposeScope());
            return;
        }
        // A batch-dependent fill is data: the fill value expanded at run time.
        var fillName = c.Intermediate(node.Output[0], "fill");
        c.SetConstant(fillName, fill.MoveToOuterDisposeScope());
        c.Apply(node.Output[0], new ExpandOp(c.DimsOf(shape.Longs)), [fillName], batchSource: true);
    }

    private static Tensor Range(Tensor start, Tensor limit, Tensor delta)
    {
        if (start.is_floating_point())
        {
            var (s, l, d) = (start.item<float>(), limit.item<float>(), delta.item<float>());
            var count = Math.Max((long)Math.Ceiling((l - s) / d), 0);
            return arange(count, dtype: ScalarType.Float32) * d + s;
        }
        var (si, li, di) = (start.item<long>(), limit.item<long>(), delta.item<long>());
        var n = Math.Max((long)Math.Ceiling((li - si) / (double)di), 0);
        return arange(n, dtype: ScalarType.Int64) * di + si;
    }

    private static void ScatterND(OnnxConversion c, NodeProto node)
    {
        if (node.String("reduction", "none") != "none")
        {
            throw new OnnxNodeNotSupportedException("ScatterND with a reduction is not mapped.");
        }
        if (!node.Input.All(c.IsConstant))
        {
            throw new OnnxNodeNotSupportedException("ScatterND is mapped only on constants (shape arithmetic).");
        }
        c.FoldConstant(node.Output[0], [.. node.Input], x =>
        {
            var (data, indices, updates) = (x[0], x[1], x[2]);
            var result = data.clone();
            var depth = indices.shape[^1];
            var rows = indices.reshape(-1, depth).data<long>().ToArray();
            var flatUpdates = updates.reshape([-1, .. data.shape[(int)depth..]]);
            for (var i = 0; i < rows.Length / depth; i++)
            {
                var target = result;
                for (var d = 0; d < depth; d++)
                {
                    var index = rows[i * depth + d];
                    target = target.select(0, index < 0 ? index + target.shape[0] : index);
                }
                target.copy_(flatUpdates[i]);
            }
            return result;
        });
    }

    private static long RankOf(OnnxConversion c, string name) => ShapeOf(c, name).Length;

    private static void Gather(OnnxConversion c, NodeProto node)
    {
        var axis = FloatOp.NormalizeAxis(node.Int("axis", 0), RankOf(c, node.Input[0]));
        if (c.IsData(node.Input[1]))
        {
            throw new OnnxNodeNotSupportedException("Gather is mapped with constant indices only.");
        }
        c.Apply(node.Output[0], new GatherOp(axis), [node.Input[0], node.Input[1]]);
    }

    /// <summary>axes: an attribute before opset 13, an input from 13 on; null when absent.</summary>
    internal static long[]? Axes(OnnxConversion c, NodeProto node, int inputIndex) =>
        node.Ints("axes") ?? (node.OptionalInput(inputIndex) is { } name ? c.Constant(name).to_type(ScalarType.Int64).data<long>().ToArray() : null);

    private static void Squeeze(OnnxConversion c, NodeProto node, bool unsqueeze)
    {
        var input = node.Input[0];
        var rank = RankOf(c, input);
        var axes = Axes(c, node, 1);
        long[] normalized;
        if (unsqueeze)
        {
            var outputRank = rank + (axes ?? throw new OnnxNodeNotSupportedException("Unsqueeze needs axes.")).Length;
            normalized = [.. axes.Select(a => FloatOp.NormalizeAxis(a, outputRank)).Order()];
        }
        else if (axes is null)
        {
            // Every axis of size 1, the batch excluded: it is 1 only in the batch-of-one sample.
            var dims = c.IsConstant(input) ? BatchDims.Of(ShapeOf(c, input)) : c.BatchShapeOf(c.Data(input));
            normalized = [.. Enumerable.Range(0, (int)rank).Where(i => dims.Fixed[i] == 1 && dims.PerBatch[i] == 0).Select(i => (long)i)];
        }
        else
        {
            normalized = [.. axes.Select(a => FloatOp.NormalizeAxis(a, rank)).Order()];
        }
        c.Apply(node.Output[0], new SqueezeOp(normalized, unsqueeze), [input]);
    }

    private static void Concat(OnnxConversion c, NodeProto node)
    {
        var inputs = node.Input.Where(i => i.Length > 0).ToList();
        var rank = RankOf(c, inputs[0]);
        var axis = FloatOp.NormalizeAxis(node.Int("axis", c.Opset < 4 ? 1 : 0), rank); // Concat-1's axis defaulted to 1.
        if (inputs.All(c.IsConstant))
        {
            c.FoldConstant(node.Output[0], inputs, x => cat(x.ToList(), axis));
            return;
        }
        if (axis == 0 && c.SymbolicBatch)
        {
            throw new OnnxNodeNotSupportedException("concatenation along the batch axis is not mapped.");
        }
        var parts = inputs.Select(c.Operand).ToList();
        c.Add(node.Output[0], v => new ConcatNode(v, parts, axis));
    }

    private static void Flatten(OnnxConversion c, NodeProto node)
    {
        var rank = RankOf(c, node.Input[0]);
        var axis = FloatOp.NormalizeAxis(node.Int("axis", 1), rank);
        if (axis == 1 && rank >= 2 && c.IsData(node.Input[0]))
        {
            // The int8-capable form (torch.flatten keeps int8 tensors int8).
            var input = c.Data(node.Input[0]);
            c.Add(node.Output[0], v => new FlattenNode(v, input, 1));
            return;
        }
        c.Apply(node.Output[0], new FlattenOp(axis, rank), [node.Input[0]]);
    }

    private static void Transpose(OnnxConversion c, NodeProto node)
    {
        var rank = RankOf(c, node.Input[0]);
        var perm = node.Ints("perm") ?? [.. Enumerable.Range(0, (int)rank).Reverse().Select(i => (long)i)];
        c.Apply(node.Output[0], new TransposeOp([.. perm.Select(p => FloatOp.NormalizeAxis(p, rank))]), [node.Input[0]]);
    }

    /// <summary>
    /// The target with 0 resolved (copied from the input unless allowzero) at each sample; a fixed-batch image export's
    /// literal batch size in front stays the batch. A flatten becomes the int8-capable <see cref="FlattenNode"/>, a
    /// reshape to the input's own shape an alias.
    /// </summary>
    private static void Reshape(OnnxConversion c, NodeProto node)
    {
        var name = node.Input[0];
        var allowZero = node.Int("allowzero", 0) != 0;
        long[][] targets = node.OptionalInput(1) is { } shapeName
            ? c.FoldedConstant(shapeName).Longs
            : [node.Ints("shape") ?? throw new OnnxNodeNotSupportedException("Reshape needs a shape.")];
        if (c.IsConstant(name))
        {
            var folded = c.FoldedConstant(name);
            c.SetConstant(node.Output[0], new Folded([.. folded.At.Select((t, i) => t.reshape(Resolve(targets[Math.Min(i, targets.Length - 1)], t.shape, allowZero)))]));
            return;
        }
        var input = c.Data(name);
        var inputDims = c.BatchShapeOf(input);
        var sampleShapes = c.SampleShapes(input);
        var resolved = sampleShapes.Select((s, i) => Resolve(targets[Math.Min(i, targets.Length - 1)], s, allowZero)).ToArray();
        var dims = c.DimsOf(resolved);
        if (c.FixedBatch is { } batch && dims.Rank > 0 && dims.PerBatch[0] == 0 && dims.Fixed[0] == batch && inputDims.PerBatch[0] == 1 && inputDims.Fixed[0] == 0)
        {
            // A fixed-batch export writes its batch size literally; the graph still runs at any batch size.
            dims = new BatchDims([0, .. dims.Fixed[1..]], [1, .. dims.PerBatch[1..]]);
        }
        if (dims.Rank == inputDims.Rank && dims.Fixed.SequenceEqual(inputDims.Fixed) && dims.PerBatch.SequenceEqual(inputDims.PerBatch))
        {
            c.Alias(node.Output[0], name);
            return;
        }
        var batchFirst = inputDims.Rank >= 2 && inputDims.Fixed[0] == 0 && inputDims.PerBatch[0] == 1 && c.SymbolicBatch;
        var features = inputDims.Fixed.Skip(1).Aggregate(1L, (a, b) => a * b);
        if (batchFirst && dims.Rank == 2 && ((dims.Fixed[0] == 0 && dims.PerBatch[0] == 1) || (dims.Fixed[0] == -1 && dims.Fixed[1] == features))
            && (dims.Fixed[1] == -1 || dims.Fixed[1] == features) && dims.PerBatch[1] == 0 && !(dims.Fixed[0] == -1 && dims.Fixed[1] == -1))
        {
            c.Add(node.Output[0], v => new FlattenNode(v, input, 1));
            return;
        }
        c.Apply(node.Output[0], new ReshapeOp(dims), [name], batchSource: dims.DependsOnBatch);
    }

    private static long[] Resolve(long[] target, long[] shape, bool allowZero) =>
        [.. target.Select((d, i) => d == 0 && !allowZero && i < shape.Length ? shape[i] : d)];

    /// <summary>Per ONNX: negative indices count from the end, then clamped to the axis (differently for negative steps).</summary>
    private static (long Start, long End) Clamp(long start, long end, long step, long dim)
    {
        start = start < 0 ? start + dim : start;
        end = end < 0 ? end + dim : end;
        return step > 0
            ? (Math.Clamp(start, 0, dim), Math.Clamp(end, 0, dim))
            : (Math.Clamp(start, 0, dim - 1), Math.Clamp(end, -1, dim - 1));
    }

    private static void Slice(OnnxConversion c, NodeProto node)
    {
        var name = node.Input[0];
        long[] Input(int index, string attribute) =>
            c.Opset < 10 ? node.Ints(attribute) ?? [] : node.OptionalInput(index) is { } i ? c.Constant(i).to_type(ScalarType.Int64).data<long>().ToArray() : [];
        var (starts, ends) = (Input(1, "starts"), Input(2, "ends"));
        var rank = RankOf(c, name);
        var axes = Input(3, "axes") is { Length: > 0 } given ? given : [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        var steps = Input(4, "steps") is { Length: > 0 } s ? s : [.. Enumerable.Repeat(1L, starts.Length)];
        var dims = c.IsConstant(name) ? BatchDims.Of(ShapeOf(c, name)) : c.BatchShapeOf(c.Data(name));
        var current = name;
        for (var k = 0; k < axes.Length; k++)
        {
            var axis = FloatOp.NormalizeAxis(axes[k], rank);
            var output = k == axes.Length - 1 ? node.Output[0] : c.Intermediate(node.Output[0], $"slice{k}");
            if (steps[k] == 0)
            {
                throw new OnnxNodeNotSupportedException("a Slice step of 0 is invalid.");
            }
            if (dims.PerBatch[axis] != 0)
            {
                // The batch axis: only the whole of it.
                if (starts[k] is not 0 || ends[k] < int.MaxValue || steps[k] != 1)
                {
                    throw new OnnxNodeNotSupportedException("slicing the batch axis is not mapped.");
                }
                c.Alias(output, current);
                current = output;
                continue;
            }
            var dim = dims.Fixed[axis];
            var (start, end) = Clamp(starts[k], ends[k], steps[k], dim);
            if (steps[k] == 1)
            {
                c.Apply(output, new NarrowOp(axis, start, Math.Max(0, end - start)), [current]);
            }
            else
            {
                var count = Math.Max(0, (long)Math.Ceiling((end - start) / (double)steps[k]));
                var indices = c.Intermediate(node.Output[0], $"indices{k}");
                c.SetConstant(indices, arange(count, dtype: ScalarType.Int64) * steps[k] + start);
                c.Apply(output, new GatherOp(axis), [current, indices]);
            }
            current = output;
        }
        if (axes.Length == 0)
        {
            c.Alias(node.Output[0], name);
        }
    }

    private static void Split(OnnxConversion c, NodeProto node)
    {
        var name = node.Input[0];
        var rank = RankOf(c, name);
        var axis = FloatOp.NormalizeAxis(node.Int("axis", 0), rank);
        var dims = c.IsConstant(name) ? BatchDims.Of(ShapeOf(c, name)) : c.BatchShapeOf(c.Data(name));
        if (dims.PerBatch[axis] != 0)
        {
            throw new OnnxNodeNotSupportedException("splitting the batch axis is not mapped.");
        }
        var dim = dims.Fixed[axis];
        var outputs = node.Output.Count;
        var sizes = node.Ints("split")
            ?? (node.OptionalInput(1) is { } s ? c.Constant(s).data<long>().ToArray() : null)
            ?? EqualSplit(dim, node.Int("num_outputs", outputs));
        if (sizes.Length != outputs || sizes.Sum() != dim)
        {
            throw new OnnxNodeNotSupportedException($"the split sizes [{string.Join(", ", sizes)}] do not divide an axis of {dim} into {outputs} outputs.");
        }
        var start = 0L;
        for (var i = 0; i < outputs; i++)
        {
            if (node.Output[i].Length > 0)
            {
                c.Apply(node.Output[i], new NarrowOp(axis, start, sizes[i]), [name]);
            }
            start += sizes[i];
        }
    }

    // Opset 18: the last chunk is smaller when the axis does not divide evenly.
    private static long[] EqualSplit(long dim, long count)
    {
        var chunk = (dim + count - 1) / count;
        return [.. Enumerable.Range(0, (int)count).Select(i => Math.Max(0, Math.Min(chunk, dim - i * chunk)))];
    }

    private static void Expand(OnnxConversion c, NodeProto node)
    {
        var name = node.Input[0];
        var targets = c.FoldedConstant(node.Input[1]).Longs;
        var shapes = c.IsConstant(name) ? [.. c.FoldedConstant(name).At.Select(t => t.shape)] : c.SampleShapes(c.Data(name));
        var count = Math.Max(targets.Length, shapes.Length);
        var broadcast = Enumerable.Range(0, count).Select(i => Broadcast(shapes[Math.Min(i, shapes.Length - 1)], targets[Math.Min(i, targets.Length - 1)])).ToArray();
        var dims = c.DimsOf(broadcast);
        c.Apply(node.Output[0], new ExpandOp(dims), [name], batchSource: dims.DependsOnBatch);
    }

    /// <summary>Numpy broadcasting of two shapes (ONNX's multidirectional broadcast).</summary>
    internal static long[] Broadcast(long[] a, long[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        return [.. Enumerable.Range(0, rank).Select(i =>
        {
            var x = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            var y = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            return x == 1 ? y : y == 1 || y == x ? x
                : throw new OnnxNodeNotSupportedException($"shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}] do not broadcast.");
        })];
    }

    private static void Tile(OnnxConversion c, NodeProto node)
    {
        var repeats = c.Constant(node.Input[1]).to_type(ScalarType.Int64).data<long>().ToArray();
        c.Apply(node.Output[0], new TileOp(repeats), [node.Input[0]]);
    }
}

using ModelOpt.Engine.Graph.FloatOps;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Resize (opsets 10-19) and Upsample (7-9) of the last two axes, in every mode (nearest with each rounding, linear,
/// cubic) and coordinate transformation. Resizing one axis is a linear map of that axis, so each resized axis becomes
/// a constant interpolation matrix and a FP32 MatMul: exactly ONNX's formulas, with nothing left to PyTorch's own
/// interpolation conventions.
/// </summary>
internal static class ResizeConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("Resize", Resize),
        ("Upsample", Upsample),
    ];

    private sealed record Settings(
        string Mode, string Coordinates, string NearestMode, double CubicA, bool ExcludeOutside, double[] RoiStart, double[] RoiEnd);

    private static void Upsample(OnnxConversion c, NodeProto node)
    {
        var scales = c.Opset >= 9 ? Floats(c, node.Input[1]) : node.Floats("scales")?.Select(f => (double)f).ToArray()
            ?? throw new OnnxNodeNotSupportedException("Upsample needs scales.");
        var mode = node.String("mode", "nearest");
        Apply(c, node, scales, null, new Settings(mode is "bilinear" ? "linear" : mode, "asymmetric", "floor", -0.75, false, [], []));
    }

    private static void Resize(OnnxConversion c, NodeProto node)
    {
        if (node.Int("antialias", 0) != 0)
        {
            throw new OnnxNodeNotSupportedException("Resize with antialias is not mapped.");
        }
        if (node.String("keep_aspect_ratio_policy", "stretch") != "stretch" || node.Ints("axes") is not null)
        {
            throw new OnnxNodeNotSupportedException("Resize with axes or a keep_aspect_ratio_policy is not mapped.");
        }
        var rank = c.ShapeOf(c.Data(node.Input[0])).Length;
        double[]? scales;
        long[]? sizes = null;
        double[] roi = [];
        if (c.Opset < 11)
        {
            scales = Floats(c, node.Input[1]);
        }
        else
        {
            roi = node.OptionalInput(1) is { } r && c.Constant(r).numel() > 0 ? Floats(c, r) : [];
            scales = node.OptionalInput(2) is { } s && c.Constant(s).numel() > 0 ? Floats(c, s) : null;
            sizes = node.OptionalInput(3) is { } z ? c.Constant(z).to_type(ScalarType.Int64).data<long>().ToArray() : null;
        }
        var coordinates = c.Opset < 11 ? "asymmetric" : node.String("coordinate_transformation_mode", "half_pixel");
        if (coordinates == "tf_crop_and_resize" && node.Float("extrapolation_value", 0f) != 0)
        {
            throw new OnnxNodeNotSupportedException("tf_crop_and_resize with a non-zero extrapolation_value is not mapped.");
        }
        if (coordinates is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn" or "tf_crop_and_resize"))
        {
            throw new OnnxNodeNotSupportedException($"coordinate_transformation_mode '{coordinates}' is not mapped.");
        }
        var settings = new Settings(
            node.String("mode", "nearest"), coordinates, c.Opset < 11 ? "floor" : node.String("nearest_mode", "round_prefer_floor"),
            node.Float("cubic_coeff_a", -0.75f), node.Int("exclude_outside", 0) != 0,
            roi.Length == 2 * rank ? roi[..rank] : [], roi.Length == 2 * rank ? roi[rank..] : []);
        Apply(c, node, scales, sizes, settings);
    }

    private static double[] Floats(OnnxConversion c, string name) =>
        [.. c.Constant(name).to_type(ScalarType.Float32).data<float>().Select(f => (double)f)];

    private static void Apply(OnnxConversion c, NodeProto node, double[]? scales, long[]? sizes, Settings settings)
    {
        if (settings.Mode is not ("nearest" or "linear" or "cubic"))
        {
            throw new OnnxNodeNotSupportedException($"Resize mode '{settings.Mode}' is not mapped.");
        }
        var name = node.Input[0];
        var shape = c.ShapeOf(c.Data(name));
        var rank = shape.Length;
        var resized = new List<(int Axis, long Out, double Scale)>();
        for (var axis = 0; axis < rank; axis++)
        {
            var output = sizes is not null ? sizes[axis] : (long)Math.Floor(shape[axis] * scales![axis] + 1e-9);
            var scale = sizes is not null ? (double)output / shape[axis] : scales![axis];
            if (output == shape[axis] && scale == 1 && settings.Coordinates != "tf_crop_and_resize")
            {
                continue;
            }
            if (axis < rank - 2)
            {
                throw new OnnxNodeNotSupportedException("Resize is mapped on the last two axes only (the batch and channels keep their size).");
            }
            resized.Add((axis, output, scale));
        }
        var current = name;
        for (var i = 0; i < resized.Count; i++)
        {
            var (axis, output, scale) = resized[i];
            var matrix = c.Intermediate(node.Output[0], $"matrix{axis}");
            using var weights = Matrix(shape[axis], output, scale, axis, settings);
            var result = i == resized.Count - 1 ? node.Output[0] : c.Intermediate(node.Output[0], $"axis{axis}");
            if (axis == rank - 1)
            {
                c.SetConstant(matrix, weights.t().contiguous());
                c.Apply(result, new MatMulOp(), [current, matrix]);
            }
            else
            {
                c.SetConstant(matrix, weights.clone());
                c.Apply(result, new MatMulOp(), [matrix, current]);
            }
            current = result;
        }
        if (resized.Count == 0)
        {
            c.Alias(node.Output[0], name);
        }
    }

    /// <summary>The (out, in) matrix that resizes one axis, from ONNX's coordinate transformation and interpolation formulas.</summary>
    private static Tensor Matrix(long inSize, long outSize, double scale, int axis, Settings s)
    {
        var m = new float[outSize * inSize];
        for (var o = 0; o < outSize; o++)
        {
            var x = Original(o, inSize, outSize, scale, axis, s);
            if (s.Coordinates == "tf_crop_and_resize" && (x < 0 || x > inSize - 1))
            {
                continue; // The extrapolation value, 0.
            }
            if (s.Mode == "nearest")
            {
                var index = (long)(s.NearestMode switch
                {
                    "round_prefer_ceil" => x - Math.Floor(x) == 0.5 ? Math.Ceiling(x) : Math.Round(x),
                    "floor" => Math.Floor(x),
                    "ceil" => Math.Ceiling(x),
                    _ => x - Math.Floor(x) == 0.5 ? Math.Floor(x) : Math.Round(x),
                });
                m[o * inSize + Math.Clamp(index, 0, inSize - 1)] = 1;
                continue;
            }
            var floor = (long)Math.Floor(x);
            var ratio = x - floor;
            (long Index, double Weight)[] taps = s.Mode == "linear"
                ? [(floor, 1 - ratio), (floor + 1, ratio)]
                : [.. Cubic(ratio, s.CubicA).Select((w, k) => (floor - 1 + k, w))];
            if (s.ExcludeOutside)
            {
                var inside = taps.Where(t => t.Index >= 0 && t.Index < inSize).Sum(t => t.Weight);
                taps = [.. taps.Select(t => t.Index >= 0 && t.Index < inSize ? (t.Index, t.Weight / inside) : (t.Index, 0.0))];
            }
            foreach (var (index, weight) in taps)
            {
                // Outside the axis ONNX reads the edge value.
                m[o * inSize + Math.Clamp(index, 0, inSize - 1)] += (float)weight;
            }
        }
        return tensor(m).reshape(outSize, inSize);
    }

    private static double[] Cubic(double r, double a) =>
    [
        ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
        ((a + 2) * r - (a + 3)) * r * r + 1,
        ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1,
        ((a * (2 - r) - 5 * a) * (2 - r) + 8 * a) * (2 - r) - 4 * a,
    ];

    private static double Original(long x, long inSize, long outSize, double scale, int axis, Settings s) => s.Coordinates switch
    {
        "half_pixel" => (x + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => outSize > 1 ? (x + 0.5) / scale - 0.5 : 0,
        "align_corners" => outSize == 1 ? 0 : x * (inSize - 1) / (scale * inSize - 1), // ONNX: the unrounded output length.
        "tf_half_pixel_for_nn" => (x + 0.5) / scale,
        "tf_crop_and_resize" => s.RoiStart.Length == 0 ? x / scale
            : outSize > 1
                ? s.RoiStart[axis] * (inSize - 1) + x * (s.RoiEnd[axis] - s.RoiStart[axis]) * (inSize - 1) / (outSize - 1)
                : 0.5 * (s.RoiStart[axis] + s.RoiEnd[axis]) * (inSize - 1),
        _ => x / scale,
    };
}

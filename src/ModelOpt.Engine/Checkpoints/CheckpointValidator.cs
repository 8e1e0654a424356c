using ModelOpt.Engine.Models;

namespace ModelOpt.Engine.Checkpoints;

/// <summary>Checks a state_dict against an architecture's before anything is copied.</summary>
public static class CheckpointValidator
{
    /// <summary>Throws when the checkpoint cannot be loaded into <paramref name="model"/>, listing every problem.</summary>
    /// <remarks>
    /// Dtypes follow PyTorch's <c>load_state_dict</c>, which copies with conversion: any floating-point
    /// tensor (float16, bfloat16, float64) may fill a float32 parameter, and any integer tensor an integer
    /// buffer such as <c>num_batches_tracked</c>. Integer or bool data for a floating parameter (an int8
    /// export, say) is a mismatch. A 0-d buffer accepts a one-element [1] tensor, the shape
    /// TorchSharp.PyBridge gives pickled scalars.
    /// </remarks>
    /// <exception cref="CheckpointMismatchException">Keys are missing or unexpected, or shapes or dtypes differ.</exception>
    public static void Validate(StateDict checkpoint, nn.Module model)
    {
        var expected = model.state_dict();
        var actual = checkpoint.Tensors;
        var missing = expected.Keys.Where(k => !actual.ContainsKey(k)).ToList();
        var unexpected = actual.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var shapes = new List<ShapeMismatch>();
        var dtypes = new List<DtypeMismatch>();
        foreach (var (key, target) in expected)
        {
            if (!actual.TryGetValue(key, out var source))
            {
                continue;
            }
            if (!ShapesFit(source.shape, target.shape))
            {
                shapes.Add(new ShapeMismatch(key, source.shape, target.shape));
            }
            if (!DtypesFit(source.dtype, target.dtype))
            {
                dtypes.Add(new DtypeMismatch(key, source.dtype, target.dtype));
            }
        }
        if (missing.Count + unexpected.Count + shapes.Count + dtypes.Count > 0)
        {
            throw new CheckpointMismatchException(Describe(model), missing, unexpected, shapes, dtypes);
        }
    }

    /// <summary>Reads the file and checks it against a freshly built zoo model, which is disposed again.</summary>
    /// <exception cref="CheckpointFormatException">The file is not a readable checkpoint.</exception>
    /// <exception cref="CheckpointMismatchException">It does not fit the architecture.</exception>
    /// <exception cref="UnknownModelException">The zoo has no such model.</exception>
    public static void Validate(string path, string modelName, long inputChannels, long numClasses)
    {
        using var checkpoint = CheckpointReader.Read(path);
        Validate(checkpoint, modelName, inputChannels, numClasses);
    }

    /// <inheritdoc cref="Validate(string, string, long, long)"/>
    public static void Validate(Stream stream, string sourceName, string modelName, long inputChannels, long numClasses)
    {
        using var checkpoint = CheckpointReader.Read(stream, sourceName);
        Validate(checkpoint, modelName, inputChannels, numClasses);
    }

    /// <inheritdoc cref="Validate(string, string, long, long)"/>
    public static void Validate(StateDict checkpoint, string modelName, long inputChannels, long numClasses)
    {
        using var model = ModelZoo.Create(modelName, inputChannels, numClasses);
        Validate(checkpoint, model);
    }

    /// <summary>"resnet20 (1 input channel, 10 classes)": the model's name and the sizes it was built with.</summary>
    public static string Describe(nn.Module model) => $"{model.GetName()} ({ModelDimensions.Of(model)})";

    internal static bool ShapesFit(long[] source, long[] target) =>
        source.SequenceEqual(target) || (target.Length == 0 && source is [1]);

    private static bool DtypesFit(ScalarType source, ScalarType target) =>
        IsFloating(target) ? IsFloating(source) : IsInteger(target) && IsInteger(source);

    private static bool IsFloating(ScalarType dtype) =>
        dtype is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    private static bool IsInteger(ScalarType dtype) =>
        dtype is ScalarType.Byte or ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64;
}

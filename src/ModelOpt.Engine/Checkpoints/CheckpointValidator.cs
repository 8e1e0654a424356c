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
    public static void Validate(StateDict checkpoint, nn.Module model) =>
        Validate(checkpoint.Layout, CheckpointLayout.Of(model), Describe(model));

    /// <inheritdoc cref="Validate(StateDict, nn.Module)"/>
    public static void Validate(CheckpointLayout checkpoint, nn.Module model) =>
        Validate(checkpoint, CheckpointLayout.Of(model), Describe(model));

    /// <summary>
    /// The one comparison: every key of <paramref name="expected"/> must be in <paramref name="checkpoint"/> with a
    /// fitting shape and dtype, and nothing else may be there.
    /// </summary>
    /// <param name="architecture">Named in the exception, e.g. "resnet20 (1 input channel, 10 classes)".</param>
    /// <exception cref="CheckpointMismatchException">Keys are missing or unexpected, or shapes or dtypes differ.</exception>
    public static void Validate(CheckpointLayout checkpoint, CheckpointLayout expected, string architecture)
    {
        var actual = checkpoint.Entries;
        var missing = expected.Entries.Keys.Where(k => !actual.ContainsKey(k)).ToList();
        var unexpected = actual.Keys.Where(k => !expected.Entries.ContainsKey(k)).ToList();
        var shapes = new List<ShapeMismatch>();
        var dtypes = new List<DtypeMismatch>();
        foreach (var (key, target) in expected.Entries)
        {
            if (!actual.TryGetValue(key, out var source))
            {
                continue;
            }
            if (!ShapesFit(source.Shape, target.Shape))
            {
                shapes.Add(new ShapeMismatch(key, source.Shape, target.Shape));
            }
            if (!DtypesFit(source.Dtype, target.Dtype))
            {
                dtypes.Add(new DtypeMismatch(key, source.Dtype, target.Dtype));
            }
        }
        if (missing.Count + unexpected.Count + shapes.Count + dtypes.Count > 0)
        {
            throw new CheckpointMismatchException(architecture, missing, unexpected, shapes, dtypes);
        }
    }

    /// <summary>Reads the file's layout (no tensor data) and checks it against the zoo architecture.</summary>
    /// <exception cref="CheckpointFormatException">The file is not a readable checkpoint.</exception>
    /// <exception cref="CheckpointMismatchException">It does not fit the architecture.</exception>
    /// <exception cref="UnknownModelException">The zoo has no such model.</exception>
    public static void Validate(string path, string modelName, long inputChannels, long numClasses) =>
        Validate(CheckpointReader.ReadLayout(path), modelName, inputChannels, numClasses);

    /// <inheritdoc cref="Validate(string, string, long, long)"/>
    public static void Validate(Stream stream, string sourceName, string modelName, long inputChannels, long numClasses) =>
        Validate(CheckpointReader.ReadLayout(stream, sourceName), modelName, inputChannels, numClasses);

    /// <inheritdoc cref="Validate(CheckpointLayout, string, long, long)"/>
    public static void Validate(StateDict checkpoint, string modelName, long inputChannels, long numClasses) =>
        Validate(checkpoint.Layout, modelName, inputChannels, numClasses);

    /// <summary>
    /// Checks a layout against the zoo architecture, built on the meta device: its state_dict's names, shapes and
    /// dtypes without allocating its weights (45 MB for resnet18-cifar).
    /// </summary>
    /// <exception cref="CheckpointMismatchException">It does not fit the architecture.</exception>
    /// <exception cref="UnknownModelException">The zoo has no such model.</exception>
    public static void Validate(CheckpointLayout checkpoint, string modelName, long inputChannels, long numClasses)
    {
        using var model = ModelZoo.Get(modelName).CreateMeta(inputChannels, numClasses);
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

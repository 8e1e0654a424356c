using System.Globalization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// A generic job's FP32 outputs on its evaluation images, recorded by EvaluateFp32 in the workspace
/// (<see cref="JobWorkspace.Fp32Outputs"/>, safetensors, float32) so that every later stage, in this process or a resumed
/// one, compares its forms with the same numbers. The evaluation images are the first test images
/// (<c>evaluation.testSubset</c> applies), at most as many as keep the file within <see cref="MaxElements"/> values.
/// </summary>
internal static class Fp32Outputs
{
    /// <summary>64 MiB of float32: 10 000 test images of a 1 x 32 x 48 map (15.4 M values) fit; a larger output is compared on fewer images.</summary>
    public const long MaxElements = 16L * 1024 * 1024;

    private const string TensorName = "fp32_outputs";
    private const string OutputKey = "output";

    /// <summary>How many of the first test images a generic job evaluates on.</summary>
    public static int ImageCount(StageContext context)
    {
        var test = context.Data.Test.Count;
        var asked = Math.Min(context.Request.Evaluation.TestSubset ?? test, test);
        return Within(asked, context.OpenFp32().OutputShape);
    }

    /// <summary>The first this many of <paramref name="images"/> whose outputs of <paramref name="outputShape"/> (per image) fit in <see cref="MaxElements"/>; at least one.</summary>
    public static int Within(int images, long[] outputShape)
    {
        var perImage = Math.Max(1, outputShape.Aggregate(1L, (product, d) => product * d));
        return (int)Math.Min(images, Math.Max(1, MaxElements / perImage));
    }

    /// <summary>The evaluation images (the caller disposes the view).</summary>
    public static ImageDataset Images(StageContext context) => context.Data.Test.Take(ImageCount(context));

    public static void Record(StageContext context, Tensor outputs) =>
        context.Workspace.Write(JobWorkspace.Fp32Outputs, path => File.WriteAllBytes(path, SafeTensorsFile.Write(
            [(TensorName, outputs)],
            new Dictionary<string, string> { [OutputKey] = context.OpenFp32().OutputName })));

    /// <summary>The recorded outputs (owned by the caller).</summary>
    /// <exception cref="InvalidOperationException">EvaluateFp32 has not recorded them, or for other images than this stage evaluates.</exception>
    public static Tensor Load(StageContext context)
    {
        if (!context.Workspace.Has(JobWorkspace.Fp32Outputs))
        {
            throw new InvalidOperationException("The FP32 outputs are missing: the job's EvaluateFp32 stage has not completed.");
        }
        var (tensors, _) = SafeTensorsFile.Read(File.ReadAllBytes(context.Workspace.PathOf(JobWorkspace.Fp32Outputs)));
        var outputs = tensors[TensorName];
        var images = ImageCount(context);
        if (outputs.shape[0] != images)
        {
            outputs.Dispose();
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture, $"The FP32 outputs recorded are of {outputs.shape[0]} images; this stage evaluates {images}."));
        }
        return outputs;
    }

    /// <summary>The fidelity of <paramref name="forward"/> on the job's evaluation images against the recorded FP32 outputs.</summary>
    public static OutputFidelity Measure(StageContext context, Func<Tensor, Tensor> forward)
    {
        using var reference = Load(context);
        using var images = Images(context);
        return FidelityEvaluator.Measure(
            forward, images, reference, context.OpenFp32().OutputName, context.ClassAxis, cancellationToken: context.CancellationToken);
    }
}

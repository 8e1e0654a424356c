using System.Globalization;
using ModelOpt.Engine.Data;
using System.Text.Json;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// A generic job's FP32 outputs on its evaluation images, recorded by EvaluateFp32 in the workspace
/// (<see cref="JobWorkspace.Fp32Outputs"/>, safetensors, float32) so that every later stage, in this process or a resumed
/// one, compares its forms with the same numbers. The evaluation images are the first test images
/// (<c>evaluation.testSubset</c> applies), at most as many as keep the file within <see cref="MaxElements"/> values.
/// A model with several outputs records them packed in one tensor (<see cref="OutputLayout"/>), their names and shapes
/// in the file's metadata.
/// </summary>
internal static class Fp32Outputs
{
    /// <summary>64 MiB of float32: 10 000 test images of a 1 x 32 x 48 map (15.4 M values) fit; a larger output is compared on fewer images.</summary>
    public const long MaxElements = 16L * 1024 * 1024;

    private const string TensorName = "fp32_outputs";
    private const string OutputKey = "output";
    private const string OutputsKey = "outputs";

    /// <summary>How many of the first test images a generic job evaluates on.</summary>
    public static int ImageCount(StageContext context)
    {
        var test = context.Data.Test.Count;
        var asked = Math.Min(context.Request.Evaluation.TestSubset ?? test, test);
        return Within(asked, context.OpenFp32().Outputs);
    }

    /// <summary>The first this many of <paramref name="images"/> whose <paramref name="outputs"/> (all of them) fit in <see cref="MaxElements"/>; at least one.</summary>
    public static int Within(int images, OutputLayout outputs)
    {
        var perImage = Math.Max(1, outputs.ElementsPerImage);
        return (int)Math.Min(images, Math.Max(1, MaxElements / perImage));
    }

    /// <summary>The evaluation images (the caller disposes the view).</summary>
    public static ImageDataset Images(StageContext context) => context.Data.Test.Take(ImageCount(context));

    public static void Record(StageContext context, Tensor outputs)
    {
        var model = context.OpenFp32();
        var metadata = new Dictionary<string, string> { [OutputKey] = model.OutputName };
        if (model.HasSeveralOutputs)
        {
            metadata[OutputsKey] = JsonSerializer.Serialize(model.Outputs.Outputs);
        }
        context.Workspace.Write(JobWorkspace.Fp32Outputs, path => File.WriteAllBytes(path, SafeTensorsFile.Write([(TensorName, outputs)], metadata)));
    }

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

    /// <summary>
    /// The fidelity of <paramref name="forward"/> (its outputs packed as <see cref="Models.Fp32Model.Outputs"/>) on the job's
    /// evaluation images against the recorded FP32 outputs: one per output, in order.
    /// </summary>
    public static IReadOnlyList<OutputFidelity> Measure(StageContext context, Func<Tensor, Tensor> forward)
    {
        using var reference = Load(context);
        using var images = Images(context);
        return FidelityEvaluator.Measure(
            forward, images, reference, context.OpenFp32().Outputs, context.ClassAxis, cancellationToken: context.CancellationToken);
    }
}

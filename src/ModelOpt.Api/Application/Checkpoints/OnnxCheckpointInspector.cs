using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Models;

namespace ModelOpt.Api.Application.Checkpoints;

/// <summary>
/// Checks an uploaded ONNX model the way a job will read it. A graph with a fixed input size is imported whole (and run
/// once on a batch of one), so an op or a shape ModelOpt cannot take is refused at upload, never inside a job. A graph
/// whose H and W are dynamic has no size until a job gives its preprocessing's: at upload its opset and ops are
/// checked, and the job's request imports it at that size (<see cref="InspectAt"/>).
/// </summary>
public static class OnnxCheckpointInspector
{
    /// <summary>What a job checks its data against.</summary>
    /// <param name="Model">The model name a job uses for the file.</param>
    /// <param name="Channels">The input's C.</param>
    /// <param name="Height">The input's H; null where the graph leaves it dynamic.</param>
    /// <param name="Width">The input's W; null where the graph leaves it dynamic.</param>
    /// <param name="OutputShape">The measured output's shape after the batch axis; null until the graph is imported at a size.</param>
    /// <param name="OutputNames">Every graph output by name, in the file's order; null where the file was not read.</param>
    public sealed record Summary(string Model, long Channels, long? Height, long? Width, long[]? OutputShape, IReadOnlyList<string>? OutputNames = null)
    {
        /// <summary>The logits' width when the output is (N, C); null for any other output (or one not imported yet).</summary>
        public long? NumClasses => OutputShape is [var classes] ? classes : null;
    }

    /// <exception cref="OnnxFormatException">The file is truncated, corrupt or not an ONNX model (HTTP 400).</exception>
    /// <exception cref="UnsupportedOnnxModelException">It uses ops ModelOpt does not map, each listed (HTTP 422).</exception>
    public static Summary Inspect(string path, string fileName)
    {
        var proto = Parse(path, fileName);
        var (channels, height, width) = OnnxImporter.DeclaredInput(proto, fileName);
        if (height is null || width is null)
        {
            OnnxImporter.CheckOps(proto, fileName);
            return new Summary(OnnxModelName.Of(fileName), channels, height, width, null);
        }
        using var model = OnnxImporter.Import(proto, fileName, new OnnxImportOptions(AnyOutputShape: true));
        return new Summary(OnnxModelName.Of(fileName), channels, height, width, model.OutputShape);
    }

    /// <summary>Imports the graph at the size a job's preprocessing gives (used where the file leaves it dynamic) and reads the named output.</summary>
    /// <inheritdoc cref="Inspect" path="/exception"/>
    public static Summary InspectAt(string path, string fileName, long height, long width, string? outputName)
    {
        var proto = Parse(path, fileName);
        using var model = OnnxImporter.Import(proto, fileName, new OnnxImportOptions(height, width, outputName, AnyOutputShape: true));
        return new Summary(OnnxModelName.Of(fileName), model.InputShape[0], model.InputShape[1], model.InputShape[2], model.OutputShape, OutputNames(proto));
    }

    /// <summary>The graph's outputs by name, in the file's order (a generic job measures each; ADR-023).</summary>
    /// <inheritdoc cref="Inspect" path="/exception"/>
    public static IReadOnlyList<string> OutputNames(string path, string fileName) => OutputNames(Parse(path, fileName));

    private static IReadOnlyList<string> OutputNames(Onnx.ModelProto proto) => [.. proto.Graph.Output.Select(o => o.Name)];

    private static Onnx.ModelProto Parse(string path, string fileName)
    {
        using var stream = File.OpenRead(path);
        return OnnxImporter.Parse(stream, fileName);
    }
}

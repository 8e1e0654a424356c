using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Models;

namespace ModelOpt.Jobs.Artifacts;

/// <summary>
/// Checks an uploaded ONNX model the way a job will read it: the whole graph is imported (and run once on a batch of
/// one), so an op ModelOpt does not map is refused at upload, never inside a job.
/// </summary>
public static class OnnxCheckpointInspector
{
    /// <summary>The model name a job uses for the file, and the graph's input shape [C, H, W] and class count.</summary>
    public sealed record Summary(string Model, long[] InputShape, long NumClasses);

    /// <exception cref="OnnxFormatException">The file is truncated, corrupt or not an ONNX model (HTTP 400).</exception>
    /// <exception cref="UnsupportedOnnxModelException">It uses ops ModelOpt does not map, each listed (HTTP 422).</exception>
    public static Summary Inspect(string path, string fileName)
    {
        using var stream = File.OpenRead(path);
        using var model = OnnxImporter.Import(stream, fileName);
        return new Summary(OnnxModelName.Of(fileName), model.InputShape, model.NumClasses);
    }
}

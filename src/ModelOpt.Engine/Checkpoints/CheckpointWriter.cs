using System.Text;
using ModelOpt.Engine.Storage;
using TorchSharp.PyBridge;

namespace ModelOpt.Engine.Checkpoints;

/// <summary>Saves a model's state_dict as a plain PyTorch state_dict, safetensors, or TorchSharp's format.</summary>
public static class CheckpointWriter
{
    /// <summary>Saves in the format the extension names (<c>.pth</c>/<c>.pt</c>, <c>.safetensors</c>, <c>.bin</c>/<c>.dat</c> for TorchSharp).</summary>
    public static void Save(nn.Module model, string path) => Save(model, path, FormatForExtension(path));

    /// <summary>Writes the file atomically (<see cref="AtomicFile"/>).</summary>
    public static void Save(nn.Module model, string path, CheckpointFormat format) => AtomicFile.Write(path, temporary =>
    {
        using var stream = File.Create(temporary);
        Save(model, stream, format);
    });

    /// <summary>Writes to a stream and leaves it open.</summary>
    public static void Save(nn.Module model, Stream stream, CheckpointFormat format)
    {
        switch (format)
        {
            case CheckpointFormat.PyTorch:
                model.save_py(stream, leaveOpen: true);
                break;
            case CheckpointFormat.Safetensors:
                model.save_safetensors(stream, leaveOpen: true);
                break;
            case CheckpointFormat.TorchSharp:
                using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
                {
                    model.save(writer);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown checkpoint format.");
        }
    }

    public static CheckpointFormat FormatForExtension(string path) =>
        Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".pth" or ".pt" => CheckpointFormat.PyTorch,
            ".safetensors" => CheckpointFormat.Safetensors,
            ".bin" or ".dat" => CheckpointFormat.TorchSharp,
            var other => throw new ArgumentException($"No checkpoint format for extension '{other}'; use .pth, .pt, .safetensors, .bin or .dat.", nameof(path)),
        };
}

using CheckpointFormatException = ModelOpt.Engine.Checkpoints.CheckpointFormatException;
using CheckpointMismatchException = ModelOpt.Engine.Checkpoints.CheckpointMismatchException;
using CheckpointReader = ModelOpt.Engine.Checkpoints.CheckpointReader;
using CheckpointValidator = ModelOpt.Engine.Checkpoints.CheckpointValidator;
using ModelOpt.Engine.Models;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;

namespace ModelOpt.Jobs.Artifacts;

/// <summary>An uploaded file that is not a usable checkpoint; the message says why (HTTP 400 / 422).</summary>
public sealed class CheckpointRejectedException(string message, bool architectureMismatch = false, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The file is a checkpoint, but not of the named model.</summary>
    public bool ArchitectureMismatch { get; } = architectureMismatch;
}

/// <summary>
/// Checks an uploaded checkpoint before it is accepted: the container format here (cheap, no tensors loaded), then,
/// when a model is named, the engine's check of every state_dict key, shape and dtype against that architecture, from the checkpoint's layout alone.
/// </summary>
public sealed class CheckpointInspector
{
    private const long MaxSafetensorsHeader = 100L * 1024 * 1024;

    /// <summary>The format implied by the file name, or a rejection for any other extension.</summary>
    public static CheckpointFormat FormatOf(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".pth" or ".pt" => CheckpointFormat.Pth,
        ".safetensors" => CheckpointFormat.Safetensors,
        ".onnx" => CheckpointFormat.Onnx,
        _ => throw new CheckpointRejectedException($"'{fileName}' is not a .pth, .safetensors or .onnx file."),
    };

    /// <exception cref="CheckpointRejectedException">The file is corrupt, not a checkpoint, or not of <paramref name="model"/>.</exception>
    public void Inspect(string path, CheckpointFormat format, string? model)
    {
        switch (format)
        {
            case CheckpointFormat.Pth:
                InspectPth(path);
                break;
            case CheckpointFormat.Safetensors:
                InspectSafetensors(path);
                break;
        }
        if (model is not null)
        {
            CheckArchitecture(path, model);
        }
    }

    private static void InspectPth(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using (var file = File.OpenRead(path))
        {
            if (file.Length < 4 || file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4)
            {
                throw new CheckpointRejectedException("The .pth file is empty or truncated.");
            }
        }
        if (magic[0] == 0x80)
        {
            throw new CheckpointRejectedException(
                "The .pth file uses PyTorch's legacy (pre-1.6) serialization; re-save it with torch.save(model.state_dict(), path) in a current PyTorch.");
        }
        if (!(magic[0] == (byte)'P' && magic[1] == (byte)'K' && magic[2] == 3 && magic[3] == 4))
        {
            throw new CheckpointRejectedException("The file is not a PyTorch checkpoint: torch.save writes a zip archive, and this file is not one.");
        }
        try
        {
            using var zip = ZipFile.OpenRead(path);
            if (!zip.Entries.Any(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)))
            {
                throw new CheckpointRejectedException("The zip archive has no data.pkl entry: it is not a torch.save checkpoint.");
            }
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointRejectedException($"The .pth archive is corrupt: {e.Message}", inner: e);
        }
    }

    private static void InspectSafetensors(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (file.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
        {
            throw new CheckpointRejectedException("The .safetensors file is shorter than its 8-byte header length.");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > MaxSafetensorsHeader || (long)headerLength > file.Length - 8)
        {
            throw new CheckpointRejectedException($"The .safetensors header length ({headerLength}) does not fit the file: it is corrupt or not safetensors.");
        }
        var header = new byte[headerLength];
        file.ReadExactly(header);
        long dataLength = file.Length - 8 - (long)headerLength;
        try
        {
            using var json = JsonDocument.Parse(header);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointRejectedException("The .safetensors header is not a JSON object.");
            }
            var tensors = 0;
            foreach (var entry in json.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    continue;
                }
                if (entry.Value.ValueKind != JsonValueKind.Object
                    || !entry.Value.TryGetProperty("dtype", out _)
                    || !entry.Value.TryGetProperty("shape", out _)
                    || !entry.Value.TryGetProperty("data_offsets", out var offsets)
                    || offsets.GetArrayLength() != 2
                    || offsets[1].GetInt64() > dataLength
                    || offsets[0].GetInt64() > offsets[1].GetInt64())
                {
                    throw new CheckpointRejectedException($"The .safetensors entry '{entry.Name}' is malformed or points past the end of the file.");
                }
                tensors++;
            }
            if (tensors == 0)
            {
                throw new CheckpointRejectedException("The .safetensors file holds no tensors.");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointRejectedException($"The .safetensors header is not valid JSON: {e.Message}", inner: e);
        }
    }

    private static void CheckArchitecture(string path, string model)
    {
        try
        {
            // Names, shapes and dtypes only: no tensor data is read, so a 45 MB upload costs the API kilobytes, not megabytes.
            var layout = CheckpointReader.ReadLayout(path);
            var dimensions = layout.InferDimensions();
            CheckpointValidator.Validate(layout, model, dimensions.InputChannels, dimensions.NumClasses);
        }
        catch (CheckpointMismatchException e)
        {
            throw new CheckpointRejectedException(e.Message, architectureMismatch: true, e);
        }
        catch (Exception e) when (e is CheckpointFormatException or UnknownModelException)
        {
            throw new CheckpointRejectedException(e.Message, inner: e);
        }
    }
}

using System.Net.Http.Headers;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Testing;
using System.Text;
using TorchSharp.PyBridge;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>Checkpoint files for the upload and pipeline tests: small ones (a few tensors) and randomly initialised zoo models.</summary>
public static class TestCheckpoints
{
    public static byte[] Safetensors(int floats = 4)
    {
        var header = Encoding.UTF8.GetBytes($"{{\"w\":{{\"dtype\":\"F32\",\"shape\":[{floats}],\"data_offsets\":[0,{floats * 4}]}}}}");
        var bytes = new byte[8 + header.Length + floats * 4];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)header.Length);
        header.CopyTo(bytes, 8);
        Random.Shared.NextBytes(bytes.AsSpan(8 + header.Length));
        return bytes;
    }

    /// <summary>A small honest checkpoint in each format: two tensors (PyTorch), one (safetensors), a Linear(4, 2) (TorchSharp).</summary>
    public static byte[] Of(CheckpointFormat format)
    {
        switch (format)
        {
            case CheckpointFormat.PyTorch:
                return HostileCheckpoints.SmallPth();
            case CheckpointFormat.Safetensors:
                return Safetensors(1000);
            default:
                using (var model = TorchSharp.torch.nn.Linear(4, 2))
                using (var memory = new MemoryStream())
                {
                    CheckpointWriter.Save(model, memory, format);
                    return memory.ToArray();
                }
        }
    }

    public static MultipartFormDataContent Form(byte[] content, string fileName, string? model = null)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        if (model is not null)
        {
            form.Add(new StringContent(model), "model");
        }
        return form;
    }

    /// <summary>A randomly initialised zoo model as torch.save writes it (TorchSharp's save_py), for 10 classes.</summary>
    public static byte[] ZooModel(string model, long inputChannels)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.pth");
        try
        {
            using var module = ModelOpt.Engine.Models.ModelZoo.Create(model, inputChannels, 10);
            module.save_py(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
}

using System.Net.Http.Headers;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Testing;
using System.Text;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>Small checkpoint files (a few tensors, not a zoo model) for the upload tests.</summary>
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

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
}

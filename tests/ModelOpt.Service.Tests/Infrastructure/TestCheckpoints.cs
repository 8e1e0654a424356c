using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>Container-level checkpoint files (no real tensors) for the upload tests.</summary>
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

    /// <summary>The layout torch.save writes: a zip whose entries sit under one folder, with data.pkl among them.</summary>
    public static byte[] Pth()
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
            {
                entry.Write([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]); // protocol 2, empty dict, STOP
            }
            using (var version = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open())
            {
                version.Write("3\n"u8);
            }
        }
        return memory.ToArray();
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

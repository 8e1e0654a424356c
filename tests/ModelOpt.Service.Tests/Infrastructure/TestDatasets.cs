using System.IO.Compression;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>Dataset files for the upload tests: copies of Debian's Fashion-MNIST in both formats, and hand-made bad archives.</summary>
public static class TestDatasets
{
    /// <summary>Numbered so that ImageFolder's sorted class order is Fashion-MNIST's label order, as a model trained on it expects.</summary>
    public static readonly string[] FashionClasses = ["0-tshirt", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt", "7-sneaker", "8-bag", "9-boot"];

    /// <summary>The first <paramref name="train"/> training and <paramref name="test"/> test images of the installed Fashion-MNIST.</summary>
    public static byte[] FashionMnist(string format, int train, int test)
    {
        using var all = Engine.Data.FashionMnist.Load();
        using var subset = new DatasetSplits(all.Train.Take(train), all.Test.Take(test));
        var path = Path.Combine(Path.GetTempPath(), $"modelopt-{Guid.NewGuid():N}.{format}");
        try
        {
            if (format == "zip")
            {
                DatasetExport.WriteImageFolderZip(subset, FashionClasses, path);
            }
            else
            {
                DatasetExport.WriteNpz(subset, FashionClasses, path);
            }
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static MultipartFormDataContent Form(byte[] content, string fileName, string? name = null)
    {
        var form = TestCheckpoints.Form(content, fileName);
        if (name is not null)
        {
            form.Add(new StringContent(name), "name");
        }
        return form;
    }

    /// <summary>
    /// A zip of the given entries: a null content is a folder entry; "png:R,G,B" is a 4x4 PNG of that colour, and
    /// "png:R,G,B:WxH" one of that size.
    /// </summary>
    public static byte[] Zip(params (string Name, string? Content)[] entries)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
                if (content is null)
                {
                    continue;
                }
                using var stream = entry.Open();
                if (content.StartsWith("png:", StringComparison.Ordinal))
                {
                    var parts = content[4..].Split(':');
                    var rgb = parts[0].Split(',').Select(byte.Parse).ToArray();
                    var size = parts.Length > 1 ? parts[1].Split('x').Select(int.Parse).ToArray() : [4, 4];
                    using var image = new Image<Rgb24>(size[0], size[1], new Rgb24(rgb[0], rgb[1], rgb[2]));
                    image.SaveAsPng(stream);
                }
                else
                {
                    stream.Write(System.Text.Encoding.UTF8.GetBytes(content));
                }
            }
        }
        return memory.ToArray();
    }

    /// <summary>A valid two-class ImageFolder zip with splits, 4x4 RGB images: the base the bad cases change one thing of.</summary>
    public static (string, string?)[] GoodImageFolder() =>
    [
        ("train/cat/1.png", "png:200,10,10"), ("train/cat/2.png", "png:210,20,10"),
        ("train/dog/1.png", "png:10,200,10"), ("test/cat/3.png", "png:205,15,10"), ("test/dog/2.png", "png:15,190,20"),
    ];

    /// <summary>An .npz of uint8 NHWC RGB images (4x4) and labels; <paramref name="arrays"/> replaces or adds arrays (descr, shape, data).</summary>
    public static byte[] Npz(int train, int classes, params (string Name, string Descr, long[] Shape, byte[] Data)[] arrays)
    {
        var byName = new Dictionary<string, (string Descr, long[] Shape, byte[] Data)>
        {
            ["x_train"] = ("|u1", [train, 4, 4, 3], Pixels(train * 48)),
            ["y_train"] = ("|u1", [train], [.. Enumerable.Range(0, train).Select(i => (byte)(i % classes))]),
            ["x_test"] = ("|u1", [classes, 4, 4, 3], Pixels(classes * 48)),
            ["y_test"] = ("|u1", [classes], [.. Enumerable.Range(0, classes).Select(i => (byte)i)]),
        };
        foreach (var (name, descr, shape, data) in arrays)
        {
            byName[name] = (descr, shape, data);
        }
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, (descr, shape, data)) in byName)
            {
                DatasetExport.WriteArray(zip, name, descr, shape, data);
            }
        }
        return memory.ToArray();

        static byte[] Pixels(int count) => [.. Enumerable.Range(0, count).Select(i => (byte)(i * 37))];
    }

    /// <summary>An .npz of <paramref name="train"/> and <paramref name="test"/> uint8 32x32 grey images and no labels, their pixels seeded.</summary>
    public static byte[] UnlabeledNpz(int train, int test, int seed)
    {
        var random = new Random(seed);
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, count) in new[] { ("x_train", train), ("x_test", test) })
            {
                var pixels = new byte[count * 32 * 32];
                random.NextBytes(pixels);
                DatasetExport.WriteArray(zip, name, "|u1", [count, 32, 32], pixels);
            }
        }
        return memory.ToArray();
    }
}

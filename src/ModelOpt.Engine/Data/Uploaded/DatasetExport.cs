using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>
/// Writes an in-memory dataset in the upload formats: an ImageFolder zip of PNGs (<c>train/&lt;class&gt;/00000.png</c>,
/// <c>test/…</c>) or an .npz of uint8 NHW / NHWC arrays, as np.savez writes them. Used to check that an uploaded copy of
/// a built-in set gives the same tensors, and to make benchmark inputs.
/// </summary>
public static class DatasetExport
{
    public static void WriteImageFolderZip(DatasetSplits splits, IReadOnlyList<string> classNames, string path)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (split, data) in new[] { ("train", splits.Train), ("test", splits.Test) })
        {
            var images = data.RawImages;
            var labels = data.Labels.data<long>().ToArray();
            var (channels, height, width) = ((int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
            var pixels = images.data<byte>().ToArray();
            var imageBytes = channels * height * width;
            for (var i = 0; i < labels.Length; i++)
            {
                var entry = zip.CreateEntry($"{split}/{classNames[(int)labels[i]]}/{i:D5}.png", CompressionLevel.NoCompression);
                using var stream = entry.Open();
                var image = pixels.AsSpan(i * imageBytes, imageBytes);
                if (channels == 1)
                {
                    using var grey = Image.LoadPixelData<L8>(image, width, height);
                    grey.SaveAsPng(stream);
                }
                else
                {
                    using var rgb = Image.LoadPixelData<Rgb24>(Interleave(image, height * width), width, height);
                    rgb.SaveAsPng(stream);
                }
            }
        }
    }

    /// <summary>uint8 images as NHW (one channel) or NHWC, int64 labels, and the class names as a &lt;U array.</summary>
    public static void WriteNpz(DatasetSplits splits, IReadOnlyList<string> classNames, string path)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (split, data) in new[] { ("train", splits.Train), ("test", splits.Test) })
        {
            var images = data.RawImages;
            var (count, channels, height, width) = (images.shape[0], (int)images.shape[1], images.shape[2], images.shape[3]);
            var pixels = images.data<byte>().ToArray();
            long[] shape = channels == 1 ? [count, height, width] : [count, height, width, channels];
            WriteArray(zip, $"x_{split}", "|u1", shape, channels == 1 ? pixels : Interleave(pixels, (int)(height * width)));
            var labels = data.Labels.data<long>().ToArray();
            var labelBytes = new byte[labels.Length * 8];
            for (var i = 0; i < labels.Length; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(labelBytes.AsSpan(i * 8), labels[i]);
            }
            WriteArray(zip, $"y_{split}", "<i8", [labels.Length], labelBytes);
        }
        var width32 = Math.Max(1, classNames.Max(n => n.Length));
        var names = new byte[classNames.Count * width32 * 4];
        for (var i = 0; i < classNames.Count; i++)
        {
            Encoding.UTF32.GetBytes(classNames[i], names.AsSpan(i * width32 * 4));
        }
        WriteArray(zip, "class_names", $"<U{width32}", [classNames.Count], names);
    }

    /// <summary>A .npy version 1.0 entry: magic, header length, the dict literal padded with spaces to a multiple of 64 bytes, data.</summary>
    public static void WriteArray(ZipArchive zip, string name, string descr, long[] shape, ReadOnlySpan<byte> data)
    {
        var dims = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var literal = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}";
        var padded = literal.PadRight((10 + literal.Length + 1 + 63) / 64 * 64 - 10 - 1) + "\n";
        using var stream = zip.CreateEntry($"{name}.npy", CompressionLevel.Fastest).Open();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)padded.Length);
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(padded));
        stream.Write(data);
    }

    /// <summary>(C,H,W) planes to (H,W,C) pixels.</summary>
    private static byte[] Interleave(ReadOnlySpan<byte> planes, int pixels)
    {
        var channels = planes.Length / pixels;
        var interleaved = new byte[planes.Length];
        for (var p = 0; p < pixels; p++)
        {
            for (var c = 0; c < channels; c++)
            {
                interleaved[p * channels + c] = planes[c * pixels + p];
            }
        }
        return interleaved;
    }
}

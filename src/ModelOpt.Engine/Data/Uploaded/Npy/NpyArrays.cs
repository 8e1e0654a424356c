using System.Runtime.InteropServices;

namespace ModelOpt.Engine.Data.Uploaded.Npy;

/// <summary>Reads the data of .npy arrays whose header has been read: labels, class names, and image data checked in chunks.</summary>
internal static class NpyArrays
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>A 1-D integer array of <paramref name="expectedCount"/> entries (one per image) as int64.</summary>
    public static long[] ReadLabels(Stream stream, NpyHeader header, string arrayName, long expectedCount, string imagesName)
    {
        var elementBytes = header.Descr switch
        {
            "|u1" or "<u1" or "u1" or "|i1" or "<i1" or "i1" => 1,
            "<u2" or "<i2" => 2,
            "<u4" or "<i4" => 4,
            "<u8" or "<i8" => 8,
            _ => throw new DatasetException($"'{arrayName}' has dtype '{header.Descr}'; labels must be little-endian integers."),
        };
        if (header.Shape.Length != 1 || header.FortranOrder)
        {
            throw new DatasetException($"'{arrayName}' has shape ({string.Join(", ", header.Shape)}); labels are one integer per image (a 1-D array).");
        }
        if (header.Shape[0] != expectedCount)
        {
            // Checked before anything is allocated: the header's length is the uploader's claim.
            throw new DatasetException($"{imagesName} holds {expectedCount} images but {arrayName} {header.Shape[0]} labels: they must be the same length.");
        }
        var bytes = ReadData(stream, header.Shape[0] * elementBytes, arrayName);
        var signed = header.Descr.Contains('i');
        return elementBytes switch
        {
            1 => signed ? [.. MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray().Select(v => (long)v)] : [.. bytes.Select(v => (long)v)],
            2 => signed ? [.. MemoryMarshal.Cast<byte, short>(bytes).ToArray().Select(v => (long)v)] : [.. MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(v => (long)v)],
            4 => signed ? [.. MemoryMarshal.Cast<byte, int>(bytes).ToArray().Select(v => (long)v)] : [.. MemoryMarshal.Cast<byte, uint>(bytes).ToArray().Select(v => (long)v)],
            _ => signed ? MemoryMarshal.Cast<byte, long>(bytes).ToArray()
                : [.. MemoryMarshal.Cast<byte, ulong>(bytes).ToArray().Select(v => v > long.MaxValue ? -1 : (long)v)],
        };
    }

    /// <summary>A 1-D array of fixed-width unicode strings (<c>&lt;U</c>n), as np.savez writes a list of names.</summary>
    public static string[] ReadStrings(Stream stream, NpyHeader header, string arrayName)
    {
        if (!header.Descr.StartsWith("<U", StringComparison.Ordinal) || !int.TryParse(header.Descr.AsSpan(2), out var width) || width is < 1 or > 256
            || header.Shape.Length != 1 || header.Shape[0] > 100_000)
        {
            throw new DatasetException($"'{arrayName}' must be a 1-D array of strings (dtype '<U', e.g. np.array(['cat', 'dog'])), not '{header.Descr}' shaped ({string.Join(", ", header.Shape)}).");
        }
        var bytes = ReadData(stream, header.Shape[0] * width * 4, arrayName);
        return [.. Enumerable.Range(0, (int)header.Shape[0]).Select(i => System.Text.Encoding.UTF32.GetString(bytes, i * width * 4, width * 4).TrimEnd('\0'))];
    }

    /// <summary>
    /// Streams an image array's data through <paramref name="copyTo"/> (when given) in 1 MB chunks, checking that it is
    /// complete and, for float32, that every value is finite and in [0, 1].
    /// </summary>
    public static void CheckImages(Stream stream, NpyImageLayout layout, string arrayName, Stream? copyTo = null)
    {
        var remaining = layout.DataBytes ?? throw new DatasetException(
            $"'{arrayName}' announces {layout.Count} images of {layout.ImageBytes} bytes, more data than any upload can hold.");
        var buffer = new byte[ChunkBytes];
        while (remaining > 0)
        {
            var want = (int)Math.Min(buffer.Length, remaining);
            var read = stream.ReadAtLeast(buffer.AsSpan(0, want), want, throwOnEndOfStream: false);
            if (read < want)
            {
                throw new DatasetException($"'{arrayName}' is truncated: its header announces {layout.Count} images of {layout.ImageBytes} bytes.");
            }
            if (layout.IsFloat)
            {
                foreach (var v in MemoryMarshal.Cast<byte, float>(buffer.AsSpan(0, read)))
                {
                    if (!(v >= 0f && v <= 1f))
                    {
                        throw new DatasetException($"'{arrayName}' holds the float32 value {v}; float32 images must lie in [0, 1] (as ToTensor gives); store 0-255 images as uint8.");
                    }
                }
            }
            copyTo?.Write(buffer, 0, read);
            remaining -= read;
        }
        ExpectEnd(stream, arrayName);
    }

    private static byte[] ReadData(Stream stream, long length, string arrayName)
    {
        if (length > Array.MaxLength)
        {
            throw new DatasetException($"'{arrayName}' is too large.");
        }
        var bytes = new byte[length];
        if (stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) < bytes.Length)
        {
            throw new DatasetException($"'{arrayName}' is truncated: it holds fewer bytes than its header announces.");
        }
        ExpectEnd(stream, arrayName);
        return bytes;
    }

    private static void ExpectEnd(Stream stream, string arrayName)
    {
        if (stream.ReadByte() != -1)
        {
            throw new DatasetException($"'{arrayName}' holds more bytes than its header announces.");
        }
    }
}

using System.Buffers.Binary;
using System.IO.Compression;

namespace ModelOpt.Engine.Data;

/// <summary>
/// Reads gzip-compressed IDX files (the MNIST family's format): a big-endian magic number 0x0000TTDD where TT is the
/// element type (0x08 = unsigned byte) and DD the number of dimensions, then DD big-endian int32 sizes, then the data.
/// </summary>
internal static class IdxFile
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads an unsigned-byte IDX file whose dimensions must be <paramref name="expectedRank"/> long; returns the sizes and the data.</summary>
    public static (int[] Dimensions, byte[] Data) ReadUnsignedBytes(string path, int expectedRank)
    {
        if (!File.Exists(path))
        {
            throw DatasetException.For(path, "file not found");
        }
        try
        {
            using var file = File.OpenRead(path);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            Span<byte> word = stackalloc byte[4];
            ReadExactly(gzip, word, path, "magic number");
            var magic = BinaryPrimitives.ReadUInt32BigEndian(word);
            var expectedMagic = (uint)(UnsignedByteType << 8 | expectedRank);
            if (magic != expectedMagic)
            {
                throw DatasetException.For(path, $"bad IDX magic number 0x{magic:X8}, expected 0x{expectedMagic:X8} (unsigned bytes, {expectedRank} dimensions)");
            }

            var dimensions = new int[expectedRank];
            long elements = 1;
            for (var d = 0; d < expectedRank; d++)
            {
                ReadExactly(gzip, word, path, $"size of dimension {d}");
                dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(word);
                if (dimensions[d] <= 0)
                {
                    throw DatasetException.For(path, $"dimension {d} has size {dimensions[d]}");
                }
                elements *= dimensions[d];
            }
            if (elements > Array.MaxLength)
            {
                throw DatasetException.For(path, $"{elements} elements is too many to hold");
            }

            var data = new byte[elements];
            ReadExactly(gzip, data, path, $"{elements} data bytes");
            if (gzip.ReadByte() != -1)
            {
                throw DatasetException.For(path, $"trailing bytes after the {elements} data bytes its header announces");
            }
            return (dimensions, data);
        }
        catch (InvalidDataException e)
        {
            throw DatasetException.For(path, $"not a valid gzip file ({e.Message})", e);
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw DatasetException.For(path, $"file ends before its {what}", e);
        }
    }
}

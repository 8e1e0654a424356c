using System.Buffers.Binary;
using System.Text;

namespace ModelOpt.Engine.Data.Uploaded.Npy;

/// <summary>
/// The header of a <c>.npy</c> array (NumPy's <c>numpy.lib.format</c>, versions 1-3): the magic <c>\x93NUMPY</c>, a
/// version, a little-endian header length, then a Python dict literal such as
/// <c>{'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }</c>. Only that literal's grammar is
/// accepted (string keys; a string, True/False or a tuple of integers as values); anything else is refused.
/// </summary>
internal sealed record NpyHeader(string Descr, bool FortranOrder, long[] Shape, long HeaderBytes)
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int MaxHeaderLength = 64 * 1024;

    public long ElementCount => Shape.Aggregate(1L, (product, d) => product * d);

    /// <summary>Reads the header from the start of <paramref name="stream"/>, leaving it at the first data byte.</summary>
    public static NpyHeader Read(Stream stream, string arrayName)
    {
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8 || !prefix[..6].SequenceEqual(Magic))
        {
            throw new DatasetException($"'{arrayName}' is not a .npy array (its magic bytes are not \\x93NUMPY).");
        }
        var major = prefix[6];
        int headerLength;
        int lengthBytes;
        if (major == 1)
        {
            Span<byte> length = stackalloc byte[2];
            ReadExactly(stream, length, arrayName);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(length);
            lengthBytes = 2;
        }
        else if (major is 2 or 3)
        {
            Span<byte> length = stackalloc byte[4];
            ReadExactly(stream, length, arrayName);
            var value = BinaryPrimitives.ReadUInt32LittleEndian(length);
            if (value > MaxHeaderLength)
            {
                throw new DatasetException($"'{arrayName}' announces a {value}-byte header; a .npy header is at most {MaxHeaderLength} bytes here.");
            }
            headerLength = (int)value;
            lengthBytes = 4;
        }
        else
        {
            throw new DatasetException($"'{arrayName}' is .npy format version {major}; versions 1 to 3 are read.");
        }
        var text = new byte[headerLength];
        ReadExactly(stream, text, arrayName);
        var literal = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(text);
        var (descr, fortranOrder, shape) = NpyDictLiteral.Parse(literal, arrayName);
        return new NpyHeader(descr, fortranOrder, shape, 8 + lengthBytes + headerLength);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string arrayName)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
        {
            throw new DatasetException($"'{arrayName}' ends inside its .npy header.");
        }
    }
}

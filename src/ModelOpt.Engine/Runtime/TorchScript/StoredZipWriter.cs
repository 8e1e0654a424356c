using System.Buffers.Binary;
using System.Text;

namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// Writes a zip archive whose entries are stored uncompressed, the layout LibTorch's <c>PyTorchStreamReader</c>
/// reads. Small archives only (no zip64): the generated module holds source and pickles, never tensor data.
/// </summary>
internal static class StoredZipWriter
{
    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint EndOfCentralDirectorySignature = 0x06054b50;
    private const ushort VersionNeeded = 20;

    public static byte[] Write(IReadOnlyList<(string Name, byte[] Data)> entries)
    {
        using var output = new MemoryStream();
        var central = new MemoryStream();
        foreach (var (name, data) in entries)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var crc = Crc32.Compute(data);
            var offset = checked((uint)output.Position);

            WriteUInt32(output, LocalHeaderSignature);
            WriteUInt16(output, VersionNeeded);
            WriteUInt16(output, 0); // flags
            WriteUInt16(output, 0); // method: stored
            WriteUInt32(output, 0); // DOS time and date
            WriteUInt32(output, crc);
            WriteUInt32(output, (uint)data.Length);
            WriteUInt32(output, (uint)data.Length);
            WriteUInt16(output, (ushort)nameBytes.Length);
            WriteUInt16(output, 0); // extra length
            output.Write(nameBytes);
            output.Write(data);

            WriteUInt32(central, CentralHeaderSignature);
            WriteUInt16(central, VersionNeeded); // version made by
            WriteUInt16(central, VersionNeeded);
            WriteUInt16(central, 0);
            WriteUInt16(central, 0);
            WriteUInt32(central, 0);
            WriteUInt32(central, crc);
            WriteUInt32(central, (uint)data.Length);
            WriteUInt32(central, (uint)data.Length);
            WriteUInt16(central, (ushort)nameBytes.Length);
            WriteUInt16(central, 0); // extra length
            WriteUInt16(central, 0); // comment length
            WriteUInt16(central, 0); // disk number
            WriteUInt16(central, 0); // internal attributes
            WriteUInt32(central, 0); // external attributes
            WriteUInt32(central, offset);
            central.Write(nameBytes);
        }

        var centralOffset = checked((uint)output.Position);
        central.Position = 0;
        central.CopyTo(output);
        WriteUInt32(output, EndOfCentralDirectorySignature);
        WriteUInt16(output, 0);
        WriteUInt16(output, 0);
        WriteUInt16(output, (ushort)entries.Count);
        WriteUInt16(output, (ushort)entries.Count);
        WriteUInt32(output, (uint)central.Length);
        WriteUInt32(output, centralOffset);
        WriteUInt16(output, 0); // comment length
        return output.ToArray();
    }

    private static void WriteUInt16(Stream stream, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteUInt32(Stream stream, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        stream.Write(bytes);
    }
}

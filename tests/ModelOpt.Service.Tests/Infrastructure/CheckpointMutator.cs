using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>How a fuzz mutant was made from its seed.</summary>
public enum Mutation
{
    BitFlips,
    Truncation,
    ZipHeaderEdit,
    PickleOpcodeEdit,
    SafetensorsHeaderEdit,
}

/// <summary>
/// Seeded, reproducible mutations of checkpoint files: the same seed gives the same mutants on every machine.
/// Structure-aware where it matters: zip header fields, opcodes inside data.pkl (re-zipped with a valid CRC, so the
/// unpickler and not the zip check meets them), and the safetensors JSON header (length prefix kept or made stale).
/// </summary>
public sealed class CheckpointMutator(int seed)
{
    // Every opcode the restricted unpickler knows, and some it refuses (INST, OBJ, PERSID, EXT1, STRING, LONG_BINGET …).
    private static readonly byte[] Opcodes = "(.0125FIJKLMNPQRSTUVXabcdeghjlmopqrstu}]))\x80\x81\x82\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x93\x94\x95"u8.ToArray();
    private static readonly uint[] Extremes = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
    private static readonly string[] JsonEdits = ["0", "-1", "99999999999", "9223372036854775807", "1e300", "null", "\"F64\"", "\"X9\"", "[]", "{}", ",", "\"", "]"];

    private readonly Random random = new(seed);

    public byte[] Mutate(byte[] seedFile, Mutation mutation) => mutation switch
    {
        Mutation.BitFlips => FlipBits(seedFile),
        Mutation.Truncation => seedFile[..random.Next(seedFile.Length)],
        Mutation.ZipHeaderEdit when IsZip(seedFile) => EditZipHeader(seedFile),
        Mutation.PickleOpcodeEdit when IsZip(seedFile) => RewritePickle(seedFile),
        Mutation.SafetensorsHeaderEdit when IsSafetensors(seedFile) => EditSafetensorsHeader(seedFile),
        // The structure is absent from this seed: flip bits in its first bytes, where its own header is.
        _ => FlipBits(seedFile, Math.Min(seedFile.Length, 64)),
    };

    private byte[] FlipBits(byte[] file, int within = int.MaxValue)
    {
        var copy = (byte[])file.Clone();
        var span = Math.Min(within, copy.Length);
        for (var i = random.Next(1, 17); i > 0; i--)
        {
            copy[random.Next(span)] ^= (byte)(1 << random.Next(8));
        }
        return copy;
    }

    // Overwrites one 2- or 4-byte field of a local header, a central-directory record or the end record.
    private byte[] EditZipHeader(byte[] file)
    {
        var copy = (byte[])file.Clone();
        var headers = new List<(int At, int Length)>();
        for (var i = 0; i + 4 <= copy.Length; i++)
        {
            if (copy[i] == 'P' && copy[i + 1] == 'K')
            {
                var length = (copy[i + 2], copy[i + 3]) switch { (3, 4) => 30, (1, 2) => 46, (5, 6) => 22, (6, 6) => 56, _ => 0 };
                if (length > 0 && i + length <= copy.Length)
                {
                    headers.Add((i, length));
                }
            }
        }
        var (at, size) = headers[random.Next(headers.Count)];
        var field = at + 4 + random.Next(size - 8);
        var value = random.Next(3) == 0 ? (uint)random.Next() : Extremes[random.Next(Extremes.Length)];
        if (random.Next(2) == 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(field), (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(field), value);
        }
        return copy;
    }

    private byte[] RewritePickle(byte[] zip)
    {
        using var input = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        using var output = new MemoryStream();
        using (var writer = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in input.Entries)
            {
                using var content = new MemoryStream();
                using (var from = entry.Open())
                {
                    from.CopyTo(content);
                }
                var bytes = entry.FullName.EndsWith("data.pkl", StringComparison.Ordinal) ? EditPickle(content.ToArray()) : content.ToArray();
                using var to = writer.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                to.Write(bytes);
            }
        }
        return output.ToArray();
    }

    // Replaces, inserts or deletes an opcode, or overwrites a 4-byte argument with an extreme value.
    private byte[] EditPickle(byte[] pickle)
    {
        var bytes = pickle.ToList();
        var at = random.Next(bytes.Count);
        switch (random.Next(4))
        {
            case 0:
                bytes[at] = Opcodes[random.Next(Opcodes.Length)];
                break;
            case 1:
                bytes.Insert(at, Opcodes[random.Next(Opcodes.Length)]);
                break;
            case 2:
                bytes.RemoveAt(at);
                break;
            default:
                var value = BitConverter.GetBytes(Extremes[random.Next(Extremes.Length)]);
                for (var i = 0; i < 4 && at + 1 + i < bytes.Count; i++)
                {
                    bytes[at + 1 + i] = value[i];
                }
                break;
        }
        return [.. bytes];
    }

    private byte[] EditSafetensorsHeader(byte[] file)
    {
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = Encoding.UTF8.GetString(file, 8, length);
        var at = random.Next(header.Length);
        var end = at;
        while (end < header.Length && char.IsAsciiDigit(header[end]))
        {
            end++;
        }
        var edited = header[..at] + JsonEdits[random.Next(JsonEdits.Length)] + header[Math.Max(end, at + random.Next(2))..];
        var json = Encoding.UTF8.GetBytes(edited);
        var result = new byte[8 + json.Length + file.Length - 8 - length];
        // Half the mutants keep the old length prefix, so it no longer matches the header.
        BinaryPrimitives.WriteUInt64LittleEndian(result, random.Next(2) == 0 ? (ulong)json.Length : (ulong)length);
        json.CopyTo(result, 8);
        file.AsSpan(8 + length).CopyTo(result.AsSpan(8 + json.Length));
        return result;
    }

    private static bool IsZip(byte[] file) => file.Length > 4 && file[0] == 'P' && file[1] == 'K' && file[2] == 3 && file[3] == 4;

    private static bool IsSafetensors(byte[] file) =>
        file.Length > 9 && file[8] == '{' && BinaryPrimitives.ReadUInt64LittleEndian(file) is var length && length < (ulong)file.Length - 8;
}

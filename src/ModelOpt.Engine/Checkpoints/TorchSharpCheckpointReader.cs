using System.Text;

namespace ModelOpt.Engine.Checkpoints;

/// <summary>
/// Reads TorchSharp's <c>Module.save</c> layout without a target module: LEB128 entry count, then per
/// entry a length-prefixed UTF-8 key, LEB128 dtype, rank and dims, and the raw bytes. The layout has no
/// magic number, so every field is bounds-checked and the entries must end exactly at the end of the file;
/// that is what tells a TorchSharp checkpoint from arbitrary bytes.
/// </summary>
internal static class TorchSharpCheckpointReader
{
    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        var result = new Dictionary<string, Tensor>();
        Walk(stream, source, result, (reader, key, shape, dtype, byteCount) =>
            result.Add(key, TensorLayout.FromBytes(reader.ReadBytes((int)byteCount), shape, dtype)));
        return result;
    }

    /// <summary>Names, shapes and dtypes, seeking past each entry's data; the same checks as <see cref="Read"/>.</summary>
    public static Dictionary<string, TensorSpec> ReadLayout(Stream stream, string source)
    {
        var result = new Dictionary<string, TensorSpec>();
        Walk(stream, source, [], (reader, key, shape, dtype, byteCount) =>
        {
            reader.BaseStream.Seek(byteCount, SeekOrigin.Current);
            result.Add(key, new TensorSpec(shape, dtype));
        });
        return result;
    }

    private delegate void EntryHandler(BinaryReader reader, string key, long[] shape, ScalarType dtype, long byteCount);

    // Walks the entries, checking every field before onEntry consumes (reads or skips) the entry's byteCount data bytes.
    // On failure the tensors already in `created` are disposed.
    private static void Walk(Stream stream, string source, Dictionary<string, Tensor> created, EntryHandler onEntry)
    {
        var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            var count = ReadLeb128(reader);
            // Each entry takes at least 4 bytes (key length, dtype, rank, one key byte).
            if (count <= 0 || count > (stream.Length - stream.Position) / 4)
            {
                throw new CheckpointFormatException(source, $"not a PyTorch, safetensors or TorchSharp checkpoint (TorchSharp entry count {count} is impossible for its size).");
            }
            for (var i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var dtype = (ScalarType)ReadLeb128(reader);
                var rank = ReadLeb128(reader);
                if (rank > TensorLayout.MaxDimensions)
                {
                    throw new CheckpointFormatException(source, $"entry {i} ('{key}') has rank {rank}; not a TorchSharp checkpoint.");
                }
                var shape = new long[rank];
                for (var d = 0; d < rank; d++)
                {
                    shape[d] = ReadLeb128(reader);
                }
                var byteCount = TensorLayout.ByteCount(shape, dtype);
                if (byteCount < 0 || byteCount > stream.Length - stream.Position)
                {
                    throw new CheckpointFormatException(source,
                        $"entry {i} ('{key}') claims {ShapeMismatch.Format(shape)} of dtype {(int)dtype}, more than the file holds or an unknown dtype.");
                }
                onEntry(reader, key, shape, dtype, byteCount);
            }
            if (stream.Position != stream.Length)
            {
                throw new CheckpointFormatException(source, $"{stream.Length - stream.Position} bytes follow the last TorchSharp entry; not a TorchSharp checkpoint.");
            }
        }
        catch (Exception e) when (e is not CheckpointFormatException)
        {
            Dispose(created);
            throw e is EndOfStreamException
                ? new CheckpointFormatException(source, "the TorchSharp checkpoint ends early (truncated).", e)
                : new CheckpointFormatException(source, "not a TorchSharp checkpoint: its entries cannot be read.", e);
        }
        catch
        {
            Dispose(created);
            throw;
        }
    }

    // TorchSharp's BinaryWriter.Encode: unsigned LEB128; more than 9 bytes cannot be a valid long.
    private static long ReadLeb128(BinaryReader reader)
    {
        long value = 0;
        for (var i = 0; i < 9; i++)
        {
            long b = reader.ReadByte();
            value |= (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw new InvalidDataException("a LEB128 number longer than 9 bytes.");
    }

    private static void Dispose(Dictionary<string, Tensor> tensors)
    {
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }
    }
}

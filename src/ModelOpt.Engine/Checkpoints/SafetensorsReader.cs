using System.Text.Json;

namespace ModelOpt.Engine.Checkpoints;

/// <summary>
/// Reads a safetensors file, checking every header field against the file's real size before
/// allocating, so a damaged header gives a <see cref="CheckpointFormatException"/> rather than a huge allocation.
/// </summary>
internal static class SafetensorsReader
{
    // The format's own limit on the JSON header (safetensors rejects larger headers too).
    private const long MaxHeaderBytes = 100_000_000;

    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        var (entries, dataStart) = ReadHeader(stream, source);
        var reader = new BinaryReader(stream);
        var result = new Dictionary<string, Tensor>(entries.Count);
        foreach (var (key, dtype, shape, begin, end) in entries)
        {
            stream.Position = dataStart + begin;
            result.Add(key, TensorLayout.FromBytes(reader.ReadBytes((int)(end - begin)), shape, dtype));
        }
        return result;
    }

    /// <summary>Names, shapes and dtypes from the JSON header alone, every byte range checked against the file's size.</summary>
    public static Dictionary<string, TensorSpec> ReadLayout(Stream stream, string source) =>
        ReadHeader(stream, source).Entries.ToDictionary(e => e.Key, e => new TensorSpec(e.Shape, e.Dtype));

    private static (List<(string Key, ScalarType Dtype, long[] Shape, long Begin, long End)> Entries, long DataStart) ReadHeader(
        Stream stream, string source)
    {
        var start = stream.Position;
        var available = stream.Length - start;
        var reader = new BinaryReader(stream);
        var headerLength = reader.ReadUInt64();
        if (headerLength > MaxHeaderBytes || (long)headerLength > available - 8)
        {
            throw new CheckpointFormatException(source, $"the safetensors header claims {headerLength} bytes but the file has {available - 8} after the length.");
        }
        var dataStart = start + 8 + (long)headerLength;
        var dataLength = available - 8 - (long)headerLength;

        List<(string Key, ScalarType Dtype, long[] Shape, long Begin, long End)> entries;
        try
        {
            using var header = JsonDocument.Parse(reader.ReadBytes((int)headerLength));
            entries = header.RootElement.EnumerateObject()
                .Where(p => p.Name != "__metadata__")
                .Select(p => ParseEntry(p, source))
                .ToList();
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(source, $"the safetensors header is not valid JSON (at byte {e.BytePositionInLine ?? 0} of line {e.LineNumber ?? 0}).", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException or OverflowException)
        {
            throw new CheckpointFormatException(source, "the safetensors header is malformed (an entry lacks dtype, shape or data_offsets, or has the wrong kind of value).", e);
        }

        if (entries.Count == 0)
        {
            throw new CheckpointFormatException(source, "the safetensors file holds no tensors.");
        }
        var duplicate = entries.GroupBy(e => e.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new CheckpointFormatException(source, $"the safetensors header names tensor '{duplicate.Key}' twice.");
        }
        // The format's own rule: ranges in order, never overlapping, so tensors never take more bytes than the file holds.
        long previousEnd = 0;
        foreach (var (key, dtype, shape, begin, end) in entries.OrderBy(e => e.Begin))
        {
            var expectedBytes = TensorLayout.ByteCount(shape, dtype);
            if (begin < 0 || end > dataLength || end - begin != expectedBytes)
            {
                throw new CheckpointFormatException(source,
                    $"tensor '{key}' claims bytes [{begin},{end}) of {dataLength}, but {ShapeMismatch.Format(shape)} {dtype} needs {expectedBytes}.");
            }
            if (begin < previousEnd)
            {
                throw new CheckpointFormatException(source, $"tensor '{key}' claims bytes [{begin},{end}), which overlap another tensor's.");
            }
            previousEnd = end;
        }
        return (entries, dataStart);
    }

    private static (string, ScalarType, long[], long, long) ParseEntry(JsonProperty property, string source)
    {
        var value = property.Value;
        var dtypeName = value.GetProperty("dtype").GetString();
        ScalarType dtype = dtypeName switch
        {
            "F64" => ScalarType.Float64,
            "F32" => ScalarType.Float32,
            "F16" => ScalarType.Float16,
            "BF16" => ScalarType.BFloat16,
            "I64" => ScalarType.Int64,
            "I32" => ScalarType.Int32,
            "I16" => ScalarType.Int16,
            "I8" => ScalarType.Int8,
            "U8" => ScalarType.Byte,
            "BOOL" => ScalarType.Bool,
            _ => throw new CheckpointFormatException(source, $"tensor '{property.Name}' has unsupported safetensors dtype '{dtypeName}'."),
        };
        var shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var offsets = value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        if (offsets.Length != 2)
        {
            throw new CheckpointFormatException(source, $"tensor '{property.Name}' needs two data_offsets, has {offsets.Length}.");
        }
        return (property.Name, dtype, shape, offsets[0], offsets[1]);
    }
}

using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header (<c>__metadata__</c> of strings, then
/// per tensor its dtype, shape and byte range), then the raw little-endian data. Written here rather than through
/// PyBridge to get int8 / int64 / float64 tensors and metadata exactly.
/// </summary>
internal static class SafeTensorsFile
{
    private const string MetadataKey = "__metadata__";

    private static readonly Dictionary<ScalarType, string> DtypeNames = new()
    {
        [ScalarType.Int8] = "I8",
        [ScalarType.Byte] = "U8",
        [ScalarType.Int64] = "I64",
        [ScalarType.Float32] = "F32",
        [ScalarType.Float64] = "F64",
    };

    public static byte[] Write(IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject { [MetadataKey] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        var data = new MemoryStream();
        foreach (var (name, tensor) in tensors)
        {
            if (!DtypeNames.TryGetValue(tensor.dtype, out var dtype))
            {
                throw new NotSupportedException($"Tensor {name}: dtype {tensor.dtype} is not written to safetensors here.");
            }
            var begin = data.Length;
            using var cpu = tensor.cpu().contiguous();
            data.Write(cpu.bytes);
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(begin, data.Length),
            };
        }

        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8; // the format pads the header with spaces to 8-byte alignment
        var output = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(output, (ulong)padded);
        json.CopyTo(output, 8);
        output.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        data.GetBuffer().AsSpan(0, (int)data.Length).CopyTo(output.AsSpan(8 + padded));
        return output;
    }

    /// <summary>Reads every tensor and the metadata; any inconsistency is an <see cref="Int8CheckpointException"/>.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(byte[] bytes)
    {
        if (bytes.Length < 8)
        {
            throw new Int8CheckpointException($"Not a safetensors file: {bytes.Length} bytes is shorter than its header length field.");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
        {
            throw new Int8CheckpointException($"Not a safetensors file, or truncated: header length {headerLength} exceeds the {bytes.Length - 8} bytes present.");
        }
        var dataStart = 8 + (int)headerLength;
        JsonObject header;
        try
        {
            header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))?.AsObject()
                ?? throw new Int8CheckpointException("The safetensors header is empty.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new Int8CheckpointException($"The safetensors header is not valid JSON: {e.Message}", e);
        }

        var metadata = new Dictionary<string, string>();
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, node) in header)
            {
                if (name == MetadataKey)
                {
                    foreach (var (key, value) in node!.AsObject())
                    {
                        metadata[key] = value!.GetValue<string>();
                    }
                    continue;
                }
                tensors[name] = ReadTensor(bytes, dataStart, name, node!.AsObject());
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or OverflowException)
        {
            DisposeAll(tensors);
            throw new Int8CheckpointException($"The safetensors header is malformed: {e.Message}", e);
        }
        catch
        {
            DisposeAll(tensors);
            throw;
        }
        return (tensors, metadata);
    }

    private static Tensor ReadTensor(byte[] bytes, int dataStart, string name, JsonObject entry)
    {
        var dtypeName = entry["dtype"]!.GetValue<string>();
        var dtype = DtypeNames.FirstOrDefault(kv => kv.Value == dtypeName).Key;
        if (!DtypeNames.ContainsKey(dtype) || DtypeNames[dtype] != dtypeName)
        {
            throw new Int8CheckpointException($"Tensor {name}: unsupported dtype '{dtypeName}'.");
        }
        var shape = entry["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
        var offsets = entry["data_offsets"]!.AsArray().Select(o => o!.GetValue<long>()).ToArray();
        if (shape.Any(d => d < 0))
        {
            throw new Int8CheckpointException($"Tensor {name}: negative dimension in shape [{string.Join(", ", shape)}].");
        }
        var expected = shape.Aggregate(ElementSize(dtype), (size, d) => checked(size * d));
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] - offsets[0] != expected
            || dataStart + offsets[1] > bytes.Length)
        {
            throw new Int8CheckpointException(
                $"Tensor {name}: byte range [{string.Join(", ", offsets)}] does not hold shape [{string.Join(", ", shape)}] {dtypeName} within the file (truncated or damaged).");
        }
        var tensor = empty(shape, dtype);
        tensor.bytes = bytes.AsSpan(dataStart + (int)offsets[0], (int)expected);
        return tensor;
    }

    private static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Int8 or ScalarType.Byte => 1,
        ScalarType.Float32 => 4,
        _ => 8,
    };

    private static void DisposeAll(Dictionary<string, Tensor> tensors)
    {
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }
    }
}

namespace ModelOpt.Engine.Checkpoints;

/// <summary>Reads a state_dict from a file or stream, recognising the format from its first bytes.</summary>
public static class CheckpointReader
{
    /// <exception cref="CheckpointFormatException">The file is missing, corrupt, truncated or not a checkpoint.</exception>
    public static StateDict Read(string path) => FromFile(path, Read);

    /// <summary>Reads a state_dict from a stream (an upload, say) without closing it.</summary>
    /// <param name="sourceName">Named in error messages: the upload's file name or the path.</param>
    /// <remarks>A non-seekable stream is buffered in memory first: the zip and safetensors layouts need random access.</remarks>
    /// <exception cref="CheckpointFormatException">The content is corrupt, truncated or not a checkpoint.</exception>
    public static StateDict Read(Stream stream, string sourceName) => ByFormat(stream, sourceName, (format, seekable) =>
        new StateDict(sourceName, format, format switch
        {
            CheckpointFormat.PyTorch => PyTorchCheckpointReader.Read(seekable, sourceName),
            CheckpointFormat.Safetensors => SafetensorsReader.Read(seekable, sourceName),
            _ => TorchSharpCheckpointReader.Read(seekable, sourceName),
        }));

    /// <summary>
    /// The checkpoint's names, shapes and dtypes without reading its tensor data: the safetensors header, the
    /// PyTorch archive's <c>data.pkl</c>, or TorchSharp's entry headers (seeking past the data). Sizes are still
    /// checked against the file, so a truncated or damaged checkpoint is rejected as <see cref="Read(string)"/> would.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file is missing, corrupt, truncated or not a checkpoint.</exception>
    public static CheckpointLayout ReadLayout(string path) => FromFile(path, ReadLayout);

    /// <inheritdoc cref="ReadLayout(string)"/>
    /// <remarks>A non-seekable stream is buffered in memory first.</remarks>
    public static CheckpointLayout ReadLayout(Stream stream, string sourceName) => ByFormat(stream, sourceName, (format, seekable) =>
        new CheckpointLayout(sourceName, format, format switch
        {
            CheckpointFormat.PyTorch => PyTorchLayoutReader.Read(seekable, sourceName),
            CheckpointFormat.Safetensors => SafetensorsReader.ReadLayout(seekable, sourceName),
            _ => TorchSharpCheckpointReader.ReadLayout(seekable, sourceName),
        }));

    private static T FromFile<T>(string path, Func<Stream, string, T> read)
    {
        FileStream stream;
        try
        {
            stream = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException(path, e.Message, e);
        }
        using (stream)
        {
            return read(stream, path);
        }
    }

    private static T ByFormat<T>(Stream stream, string sourceName, Func<CheckpointFormat, Stream, T> read)
    {
        if (!stream.CanSeek)
        {
            using var buffered = new MemoryStream();
            stream.CopyTo(buffered);
            buffered.Position = 0;
            return ByFormat(buffered, sourceName, read);
        }

        var start = stream.Position;
        var format = DetectFormat(stream, sourceName);
        stream.Position = start;
        return read(format, stream);
    }

    /// <summary>
    /// PyTorch archives start with the zip magic "PK\x03\x04"; safetensors with an 8-byte little-endian
    /// header length and then the header's '{'. TorchSharp's format has no magic and is the fallback.
    /// </summary>
    public static CheckpointFormat DetectFormat(Stream stream, string sourceName)
    {
        Span<byte> head = stackalloc byte[9];
        var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read == 0)
        {
            throw new CheckpointFormatException(sourceName, "the file is empty.");
        }
        if (read >= 4 && head[..4].SequenceEqual("PK\x03\x04"u8))
        {
            return CheckpointFormat.PyTorch;
        }
        return read == 9 && head[8] == (byte)'{' ? CheckpointFormat.Safetensors : CheckpointFormat.TorchSharp;
    }
}

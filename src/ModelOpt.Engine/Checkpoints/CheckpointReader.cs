namespace ModelOpt.Engine.Checkpoints;

/// <summary>Reads a state_dict from a file or stream, recognising the format from its first bytes.</summary>
public static class CheckpointReader
{
    // Legacy torch.save: pickle protocol 2, then LONG1 of 10 bytes, the first bytes of its magic number 0x1950a86a20f9469cfc6c.
    private static ReadOnlySpan<byte> LegacyMagic => [0x80, 0x02, 0x8a, 0x0a];

    /// <remarks>
    /// Errors name the file by its name alone (<see cref="CheckpointFormatException.SourceName"/>), never its folder: their
    /// messages reach users, who should not learn the server's paths.
    /// </remarks>
    /// <exception cref="CheckpointFormatException">The file is missing, corrupt, truncated or not a checkpoint.</exception>
    public static StateDict Read(string path) => FromFile(path, Path.GetFileName(path), Read);

    /// <summary>Reads a state_dict from a stream (an upload, say) without closing it.</summary>
    /// <param name="sourceName">Named in error messages: the upload's file name or the path.</param>
    /// <remarks>A non-seekable stream is buffered in memory first: the zip and safetensors layouts need random access.</remarks>
    /// <exception cref="CheckpointFormatException">The content is corrupt, truncated or not a checkpoint.</exception>
    public static StateDict Read(Stream stream, string sourceName) => ByFormat(stream, sourceName, (format, seekable) =>
        new StateDict(sourceName, format, format switch
        {
            CheckpointFormat.PyTorch => PyTorchCheckpointReader.Read(seekable, sourceName),
            CheckpointFormat.Safetensors => SafetensorsReader.Read(seekable, sourceName),
            CheckpointFormat.TorchSharp => TorchSharpCheckpointReader.Read(seekable, sourceName),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "DetectFormat finds state_dict layouts only."),
        }));

    /// <summary>
    /// The checkpoint's names, shapes and dtypes without reading its tensor data: the safetensors header, the
    /// PyTorch archive's <c>data.pkl</c>, or TorchSharp's entry headers (seeking past the data). Sizes are still
    /// checked against the file, so a truncated or damaged checkpoint is rejected as <see cref="Read(string)"/> would.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file is missing, corrupt, truncated or not a checkpoint.</exception>
    public static CheckpointLayout ReadLayout(string path) => ReadLayout(path, Path.GetFileName(path));

    /// <inheritdoc cref="ReadLayout(string)"/>
    /// <param name="path">The file, e.g. an upload's temporary file.</param>
    /// <param name="sourceName">Named in error messages instead of the path: the upload's file name.</param>
    public static CheckpointLayout ReadLayout(string path, string sourceName) => FromFile(path, sourceName, ReadLayout);

    /// <inheritdoc cref="ReadLayout(string)"/>
    /// <remarks>A non-seekable stream is buffered in memory first.</remarks>
    public static CheckpointLayout ReadLayout(Stream stream, string sourceName) => ByFormat(stream, sourceName, (format, seekable) =>
        new CheckpointLayout(sourceName, format, format switch
        {
            CheckpointFormat.PyTorch => ReadPyTorchLayout(seekable, sourceName),
            CheckpointFormat.Safetensors => SafetensorsReader.ReadLayout(seekable, sourceName),
            CheckpointFormat.TorchSharp => TorchSharpCheckpointReader.ReadLayout(seekable, sourceName),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "DetectFormat finds state_dict layouts only."),
        }));

    private static Dictionary<string, TensorSpec> ReadPyTorchLayout(Stream stream, string sourceName)
    {
        using var archive = PyTorchArchiveReader.Open(stream, sourceName);
        return archive.Layout;
    }

    private static T FromFile<T>(string path, string sourceName, Func<Stream, string, T> read)
    {
        FileStream stream;
        try
        {
            stream = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The OS message names the full path; the user hears only that the file cannot be opened.
            throw new CheckpointFormatException(sourceName, e is FileNotFoundException or DirectoryNotFoundException
                ? "the file does not exist." : "the file cannot be opened.", e);
        }
        using (stream)
        {
            return read(stream, sourceName);
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
    /// A bare pickle that starts with PyTorch's magic number is the legacy pre-1.6 format, refused with how to re-save it.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file is empty or in the legacy format.</exception>
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
        if (read >= 4 && head[..4].SequenceEqual(LegacyMagic))
        {
            throw new CheckpointFormatException(sourceName,
                "it uses PyTorch's legacy (pre-1.6) serialization; re-save it with torch.save(model.state_dict(), path) in a current PyTorch.");
        }
        return read == 9 && head[8] == (byte)'{' ? CheckpointFormat.Safetensors : CheckpointFormat.TorchSharp;
    }
}

using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// The TorchScript zip layout <c>torch.jit.load</c> reads: <c>&lt;root&gt;/data.pkl</c> (the module object),
/// <c>code/__torch__.py</c> (its source), <c>constants.pkl</c>, <c>version</c>. Writing one from C# is how generated
/// source reaches LibTorch's <c>ops.quantized.*</c> (which <c>torch.jit.compile</c> cannot resolve); checking one
/// before <c>jit.load</c> keeps damaged files from reaching LibTorch's parser.
/// </summary>
internal static class TorchScriptArchive
{
    private const string Root = "archive";

    // File format 3 is what LibTorch writes for modules without versioned operators; PyTorch 1.x reads it too.
    private const string FileFormatVersion = "3\n";

    private static readonly string[] RequiredEntries = ["data.pkl", "constants.pkl", "version"];

    /// <summary>
    /// An archive holding a module of class <c>__torch__.<paramref name="className"/></c> whose attributes are
    /// <c>training</c> and the given empty lists, defined by <paramref name="source"/>.
    /// </summary>
    public static byte[] Create(string className, string source, IReadOnlyList<string> emptyListAttributes) =>
        Create(className, source, emptyListAttributes, withTraining: true);

    /// <summary>
    /// An archive holding a module of class <c>__torch__.<paramref name="className"/></c> whose <c>__setstate__</c>
    /// takes a <c>Dict[str, List[Tensor]]</c>: it receives the given keys, each with an empty list.
    /// </summary>
    public static byte[] CreateWithSetState(string className, string source, IReadOnlyList<string> emptyListKeys) =>
        Create(className, source, emptyListKeys, withTraining: false);

    /// <summary>Checks <paramref name="bytes"/> (<see cref="Validate"/>) and loads them into LibTorch; returns the module and its source.</summary>
    /// <exception cref="Int8CheckpointException">The bytes are not an intact TorchScript archive, or LibTorch rejects it.</exception>
    public static (jit.ScriptModule Module, string Source) Load(byte[] bytes)
    {
        // Damaged bytes must be caught here: LibTorch aborts the process on source it cannot compile.
        var source = Validate(bytes);
        try
        {
            var module = jit.load(bytes, DeviceType.CPU);
            module.eval();
            return (module, source);
        }
        catch (ExternalException e)
        {
            throw new Int8CheckpointException($"LibTorch could not load the TorchScript archive: {e.Message.Split('\n', 2)[0].Trim()}", e);
        }
    }

    /// <summary>The archive <c>torch.jit.save</c> writes for <paramref name="module"/>.</summary>
    public static byte[] Save(jit.ScriptModule module, string root)
    {
        // TorchSharp saves a ScriptModule only to a file; LibTorch names the archive's root folder after it.
        var directory = Directory.CreateTempSubdirectory("modelopt-torchscript-");
        try
        {
            var path = Path.Combine(directory.FullName, $"{root}.pt");
            jit.save(module, path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static byte[] Create(string className, string source, IReadOnlyList<string> emptyListAttributes, bool withTraining)
    {
        var module = new PickleWriter().Global("__torch__", className).EmptyTuple().NewObj().EmptyDict().Mark();
        if (withTraining)
        {
            module.String("training").Bool(false);
        }
        foreach (var attribute in emptyListAttributes)
        {
            module.String(attribute).EmptyList();
        }
        var dataPkl = module.SetItems().Build().Finish();
        var constantsPkl = new PickleWriter().EmptyTuple().Finish();

        return StoredZipWriter.Write(
        [
            ($"{Root}/data.pkl", dataPkl),
            ($"{Root}/code/__torch__.py", Encoding.UTF8.GetBytes(source)),
            ($"{Root}/constants.pkl", constantsPkl),
            ($"{Root}/version", Encoding.ASCII.GetBytes(FileFormatVersion)),
            ($"{Root}/.data/version", Encoding.ASCII.GetBytes(FileFormatVersion)),
            ($"{Root}/byteorder", Encoding.ASCII.GetBytes("little")),
        ]);
    }

    /// <summary>
    /// Checks that <paramref name="bytes"/> is a readable zip whose entries all match their CRC-32, under one root
    /// folder, with a module pickle, constants, a version and TorchScript code; returns the code of
    /// <c>code/__torch__.py</c> (empty when the module's code lives in other files).
    /// </summary>
    public static string Validate(byte[] bytes)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
            if (zip.Entries.Count == 0)
            {
                throw new Int8CheckpointException("The TorchScript archive has no entries.");
            }
            var root = zip.Entries[0].FullName.Split('/')[0];
            var contents = new Dictionary<string, byte[]>();
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.StartsWith(root + "/", StringComparison.Ordinal))
                {
                    throw new Int8CheckpointException(
                        $"Entry '{entry.FullName}' is outside the archive's root folder '{root}/': not a TorchScript archive.");
                }
                var data = ReadEntry(entry);
                var crc = Crc32.Compute(data);
                if (crc != entry.Crc32)
                {
                    throw new Int8CheckpointException(
                        $"Entry '{entry.FullName}' is corrupt: CRC-32 {crc:x8} does not match the recorded {entry.Crc32:x8}.");
                }
                contents[entry.FullName[(root.Length + 1)..]] = data;
            }

            var missing = RequiredEntries.Where(e => !contents.ContainsKey(e)).ToList();
            if (!contents.Keys.Any(k => k.StartsWith("code/", StringComparison.Ordinal)))
            {
                missing.Add("code/");
            }
            if (missing.Count > 0)
            {
                throw new Int8CheckpointException(
                    $"The TorchScript archive lacks {string.Join(", ", missing.Select(m => $"'{root}/{m}'"))}.");
            }
            return contents.TryGetValue("code/__torch__.py", out var code) ? Encoding.UTF8.GetString(code) : "";
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new Int8CheckpointException($"Not a readable TorchScript archive (zip): {e.Message}", e);
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream((int)Math.Min(entry.Length, int.MaxValue));
        try
        {
            stream.CopyTo(copy);
        }
        catch (InvalidDataException e)
        {
            // A flipped byte in deflated data usually breaks the stream before the CRC-32 can be compared.
            throw new Int8CheckpointException($"Entry '{entry.FullName}' is corrupt: {e.Message}", e);
        }
        if (copy.Length != entry.Length)
        {
            throw new Int8CheckpointException($"Entry '{entry.FullName}' is truncated: {copy.Length} of {entry.Length} bytes.");
        }
        return copy.ToArray();
    }
}

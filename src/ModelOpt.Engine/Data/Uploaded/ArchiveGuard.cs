using System.IO.Compression;

namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>
/// The checks every uploaded archive passes before any entry is read: entry count, declared total size, and entry
/// names that would leave a folder if extracted (zip slip). Reading then goes through <see cref="OpenBounded"/>, which
/// counts the bytes really decompressed, since a zip's declared sizes are not to be trusted.
/// </summary>
internal sealed class ArchiveGuard
{
    private readonly DatasetFileLimits limits;
    private long decompressed;

    private ArchiveGuard(DatasetFileLimits limits) => this.limits = limits;

    /// <summary>Opens a zip for reading; a file that is not one is refused as <paramref name="expected"/>.</summary>
    public static ZipArchive OpenArchive(string path, string expected)
    {
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException($"it is not {expected} that can be read.", e);
        }
    }

    /// <summary>Checks the archive's directory; throws <see cref="DatasetException"/> naming the offending entry.</summary>
    public static ArchiveGuard Check(ZipArchive zip, DatasetFileLimits limits)
    {
        if (zip.Entries.Count > limits.MaxEntries)
        {
            throw new DatasetException($"it holds {zip.Entries.Count} entries; at most {limits.MaxEntries} are accepted.");
        }
        long declared = 0;
        foreach (var entry in zip.Entries)
        {
            if (UnsafeName(entry.FullName))
            {
                throw new DatasetException($"entry '{entry.FullName}' has an absolute or parent-relative path; such an entry could write outside any folder (zip slip).");
            }
            declared += entry.Length;
            if (declared > limits.MaxUncompressedBytes)
            {
                throw new DatasetException($"its entries unpack to more than {limits.MaxUncompressedBytes} bytes, the limit for an uploaded dataset.");
            }
        }
        return new ArchiveGuard(limits);
    }

    /// <summary>A guard for a second read of the same checked archive: its decompressed bytes are counted afresh.</summary>
    public ArchiveGuard ForAnotherPass() => new(limits);

    /// <summary>Files that archivers add and no dataset means: macOS resource forks, Finder and Explorer caches.</summary>
    public static bool IsArchiverClutter(string fullName) =>
        fullName.StartsWith("__MACOSX/", StringComparison.Ordinal)
        || Path.GetFileName(fullName) is ".DS_Store" or "Thumbs.db" or "desktop.ini";

    /// <summary>An entry's content, failing once the archive's decompressed bytes pass the limit.</summary>
    public Stream OpenBounded(ZipArchiveEntry entry) => new BoundedReadStream(entry.Open(), this, entry.FullName);

    private void Count(int bytes, string entryName)
    {
        decompressed += bytes;
        if (decompressed > limits.MaxUncompressedBytes)
        {
            throw new DatasetException($"entry '{entryName}' unpacks past {limits.MaxUncompressedBytes} bytes in total, more than its declared size: the archive is refused.");
        }
    }

    private static bool UnsafeName(string name) =>
        name.Length == 0 || name.StartsWith('/') || name.StartsWith('\\') || name.Contains('\\') || name.Contains('\0')
        || (name.Length > 1 && name[1] == ':') || name.Split('/').Any(part => part == "..");

    private sealed class BoundedReadStream(Stream inner, ArchiveGuard guard, string entryName) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            guard.Count(read, entryName);
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

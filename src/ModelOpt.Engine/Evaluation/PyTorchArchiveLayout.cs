using System.Text;

namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// The byte length of the zip archive <c>torch.save</c> writes (PyTorchStreamWriter over miniz) for given records:
/// every record stored uncompressed, its data aligned to 64 bytes by an "FB" padding extra field, followed by a
/// 16-byte data descriptor; then the central directory and zip64 end records, which PyTorch always writes.
/// Checked to the byte against files written by PyTorch.
/// </summary>
public static class PyTorchArchiveLayout
{
    private const int LocalHeaderBytes = 30;
    private const int PaddingFieldHeaderBytes = 4;
    private const int Alignment = 64;
    private const int DataDescriptorBytes = 16;
    private const int CentralHeaderBytes = 46;
    private const int Zip64EndOfCentralDirectoryBytes = 56;
    private const int Zip64LocatorBytes = 20;
    private const int EndOfCentralDirectoryBytes = 22;

    /// <summary>Archive length for records (full names such as <c>temp/data/0</c>, data lengths) written in the given order.</summary>
    public static long ArchiveBytes(IEnumerable<(string Name, long Length)> records)
    {
        long offset = 0;
        long centralDirectory = 0;
        foreach (var (name, length) in records)
        {
            var nameBytes = Encoding.UTF8.GetByteCount(name);
            var unpaddedDataStart = offset + LocalHeaderBytes + nameBytes + PaddingFieldHeaderBytes;
            var padding = (Alignment - unpaddedDataStart % Alignment) % Alignment;
            offset = unpaddedDataStart + padding + length + DataDescriptorBytes;
            centralDirectory += CentralHeaderBytes + nameBytes;
        }
        return offset + centralDirectory + Zip64EndOfCentralDirectoryBytes + Zip64LocatorBytes + EndOfCentralDirectoryBytes;
    }
}

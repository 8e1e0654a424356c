namespace ModelOpt.Api.Infrastructure;

/// <summary>Recognises the I/O error of a full disk, which the API answers with 507 instead of a 500.</summary>
public static class DiskSpace
{
    // ENOSPC on Linux (.NET carries the errno as the HResult); ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.
    private static readonly int[] DiskFullCodes = [28, unchecked((int)0x80070070), unchecked((int)0x80070027)];

    public static bool IsFull(IOException exception) => DiskFullCodes.Contains(exception.HResult);
}

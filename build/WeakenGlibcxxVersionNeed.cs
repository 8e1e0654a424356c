// Marks the GLIBCXX_3.4.32 version-need of libLibTorchSharp.so as weak (VER_FLG_WEAK) so that the
// library loads on Debian 12, whose libstdc++ stops at GLIBCXX_3.4.30. Only one symbol,
// _ZSt21ios_base_library_initv, carries that version and no relocation references it, so a weak
// need is safe; where libstdc++ has the version (Debian 13, Ubuntu 24.04) the flag changes nothing.
// Runs on the build output's copy only, never on the NuGet cache.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxVersionNeed : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required]
    public string LibraryPath { get; set; } = "";

    [Required]
    public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(LibraryPath))
        {
            return true;
        }

        byte[] elf = File.ReadAllBytes(LibraryPath);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
        {
            Log.LogWarning("{0} is not a 64-bit little-endian ELF file; left unchanged.", LibraryPath);
            return true;
        }

        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed)
            {
                continue;
            }

            long offset = BitConverter.ToInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            if (MarkWeak(elf, offset, count, strtab))
            {
                string temp = LibraryPath + ".tmp";
                File.WriteAllBytes(temp, elf);
                // Replace rather than rewrite in place: the output file may be a hard link into the NuGet cache.
                File.Delete(LibraryPath);
                File.Move(temp, LibraryPath);
                Log.LogMessage(MessageImportance.Normal, "Marked {0} weak in {1}.", VersionName, LibraryPath);
            }
            return true;
        }
        return true;
    }

    private bool MarkWeak(byte[] elf, long verneed, int count, long strtab)
    {
        long need = verneed;
        for (int n = 0; n < count; n++)
        {
            int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
            long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
            for (int a = 0; a < auxCount; a++)
            {
                int flagsAt = (int)aux + 4;
                long nameAt = strtab + BitConverter.ToUInt32(elf, (int)aux + 8);
                if (ReadCString(elf, nameAt) == VersionName)
                {
                    ushort flags = BitConverter.ToUInt16(elf, flagsAt);
                    if ((flags & VerFlgWeak) != 0)
                    {
                        return false;
                    }
                    BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, flagsAt);
                    return true;
                }
                aux += BitConverter.ToUInt32(elf, (int)aux + 12);
            }
            need += BitConverter.ToUInt32(elf, (int)need + 12);
        }
        return false;
    }

    private static string ReadCString(byte[] bytes, long at)
    {
        int end = (int)at;
        while (bytes[end] != 0)
        {
            end++;
        }
        return Encoding.ASCII.GetString(bytes, (int)at, end - (int)at);
    }
}

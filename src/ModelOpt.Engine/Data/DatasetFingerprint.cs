using System.Security.Cryptography;

namespace ModelOpt.Engine.Data;

/// <summary>A dataset's identity for reproducibility records: the SHA-256 of its file, or of its files' SHA-256s in order.</summary>
public static class DatasetFingerprint
{
    public static string OfFiles(IEnumerable<string> paths)
    {
        var hashes = paths.Select(OfFile).ToList();
        return hashes.Count == 1 ? hashes[0] : Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(string.Concat(hashes))));
    }

    /// <summary>For generated data, which has no file: the SHA-256 of its recipe's name.</summary>
    public static string OfName(string recipe) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(recipe)));

    private static string OfFile(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }
}

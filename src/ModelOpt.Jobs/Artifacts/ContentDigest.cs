using System.Security.Cryptography;

namespace ModelOpt.Jobs.Artifacts;

/// <summary>
/// The SHA-256 of a transferred file in RFC 9530's <c>Content-Digest</c> header (<c>sha-256=:BASE64:</c>): a worker
/// sends it with an upload and the API refuses a body that hashes otherwise.
/// </summary>
public static class ContentDigest
{
    public const string Header = "Content-Digest";

    private const string Prefix = "sha-256=:";

    /// <summary>The header value of a lowercase-hex SHA-256.</summary>
    public static string Format(string sha256Hex) => $"{Prefix}{Convert.ToBase64String(Convert.FromHexString(sha256Hex))}:";

    /// <summary>The lowercase-hex SHA-256 in a header value; null when it holds no well-formed sha-256 member.</summary>
    public static string? ParseSha256(string? header)
    {
        foreach (var member in (header ?? "").Split(',', StringSplitOptions.TrimEntries))
        {
            if (member.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && member.EndsWith(':') && member.Length > Prefix.Length + 1)
            {
                var base64 = member[Prefix.Length..^1];
                var bytes = new byte[32];
                return Convert.TryFromBase64String(base64, bytes, out var written) && written == 32 ? Convert.ToHexStringLower(bytes) : null;
            }
        }
        return null;
    }

    /// <summary>The lowercase-hex SHA-256 of a file, streamed.</summary>
    public static async Task<string> OfFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }
}

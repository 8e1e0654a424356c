namespace ModelOpt.Jobs.Model;

/// <summary>
/// An API key. Only the SHA-256 of the key is stored: the key itself (32 random bytes) is shown once, when it is
/// created, and a stolen database cannot be used to call the API. A high-entropy secret needs no slow, salted hash.
/// </summary>
public sealed class ApiKey : ITeamOwned
{
    public Guid Id { get; set; }

    /// <summary>What the key is for, as its creator named it.</summary>
    public required string Name { get; set; }

    /// <summary>The key's first characters (e.g. <c>mo_3fQ9</c>), enough to recognise it in a list, never to use it.</summary>
    public required string Prefix { get; set; }

    /// <summary>Lowercase hex SHA-256 of the whole key.</summary>
    public required string Hash { get; set; }

    public ApiKeyScope Scope { get; set; }

    /// <summary>The team the key acts for: what it creates belongs to that team, and it sees only that team's work (an admin key sees every team's).</summary>
    public Guid TeamId { get; set; }
    public Team? Team { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>Set once the key is revoked; a revoked key is refused (401) and stays listed.</summary>
    public DateTime? RevokedAt { get; set; }
}

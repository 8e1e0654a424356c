namespace ModelOpt.Jobs.Model;

/// <summary>
/// A tenant: every API key belongs to one, and every checkpoint, dataset and job to the team whose key created it.
/// Other teams' keys get 404 for them; admin keys see every team (ADR-024).
/// </summary>
public sealed class Team
{
    /// <summary>The team the migration created for the rows that existed before teams, and the team of open access.</summary>
    public static readonly Guid DefaultId = new("00000000-0000-0000-0000-000000000001");
    public const string DefaultName = "default";
    public const int MaxNameLength = 64;

    public Guid Id { get; set; }

    /// <summary>Unique; keys are created for a team by its name.</summary>
    public required string Name { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>Why <paramref name="name"/> cannot name a team (1-64 printable characters); null when it can.</summary>
    public static string? NameProblem(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength || name.Any(char.IsControl)
            ? $"A team is named by 1-{MaxNameLength} printable characters."
            : null;
}

/// <summary>A row that belongs to a team: a key, or a checkpoint, dataset or job (which the context's query filter hides from other teams).</summary>
public interface ITeamOwned
{
    /// <summary>The owning team; a row added with none gets the caller's team when it is saved.</summary>
    Guid TeamId { get; set; }
}

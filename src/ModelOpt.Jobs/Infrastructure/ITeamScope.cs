namespace ModelOpt.Jobs.Infrastructure;

/// <summary>
/// Whose rows a <see cref="ModelOptDbContext"/> sees and who owns the rows it adds. The API answers it from the
/// request's key; everything else (workers, the dispatch relay, the sweeper, the CLI) acts for every team.
/// </summary>
public interface ITeamScope
{
    /// <summary>The team whose checkpoints, datasets and jobs queries see; null sees every team's.</summary>
    Guid? VisibleTeamId { get; }

    /// <summary>The team a checkpoint, dataset or job added without one belongs to.</summary>
    Guid OwnerTeamId { get; }
}

/// <summary>The scope of the service's own work: every team visible, new rows in the default team.</summary>
public sealed class AllTeamsScope : ITeamScope
{
    public static readonly AllTeamsScope Instance = new();

    public Guid? VisibleTeamId => null;
    public Guid OwnerTeamId => Team.DefaultId;
}

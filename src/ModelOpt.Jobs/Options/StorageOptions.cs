using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

public enum StorageProvider
{
    Sqlite,
    Postgres,
}

/// <summary><c>ModelOpt:Storage</c>: where rows and files live.</summary>
public sealed class StorageOptions
{
    public const string Section = "ModelOpt:Storage";

    /// <summary>Sqlite (embedded default, files under <see cref="DataRoot"/>) or Postgres (<c>ModelOpt:ConnectionStrings:Postgres</c>).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>Root of the SQLite files, the artifact store and job work folders; relative to the working directory.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataRoot { get; set; } = ".modelopt";

    /// <summary>Artifact store root; defaults to <c>{DataRoot}/artifacts</c>. Shared by API and workers.</summary>
    public string? ArtifactRoot { get; set; }

    /// <summary>
    /// Free bytes on the artifact store's disk below which <c>/health</c> reports Degraded (default 1 GiB): uploads and
    /// stages may soon fail with 507 there.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MinFreeBytes { get; set; } = 1L << 30;

    public string ResolvedDataRoot => Path.GetFullPath(DataRoot);

    public string ResolvedArtifactRoot => Path.GetFullPath(ArtifactRoot ?? Path.Combine(ResolvedDataRoot, "artifacts"));
}

/// <summary><c>ModelOpt:ConnectionStrings</c>.</summary>
public sealed class ConnectionStringsOptions
{
    public const string Section = "ModelOpt:ConnectionStrings";

    public string? Postgres { get; set; }

    /// <summary>Optional override of the embedded SQLite application database; defaults to <c>{DataRoot}/modelopt.db</c>.</summary>
    public string? Sqlite { get; set; }

    /// <summary>Optional override of the embedded SQLite Hangfire database; defaults to <c>{DataRoot}/hangfire.db</c>.</summary>
    public string? HangfireSqlite { get; set; }
}

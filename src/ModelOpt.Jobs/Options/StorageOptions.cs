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

    [Setting("`Sqlite` or `Postgres` (the app database and Hangfire storage together; Postgres for production)", Essential = true)]
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    [Setting("SQLite files, artifacts, job work folders (relative to the working directory)", Essential = true)]
    [Required(AllowEmptyStrings = false)]
    public string DataRoot { get; set; } = ".modelopt";

    [Setting("the artifact store, shared by the API and every worker", Default = "`{DataRoot}/artifacts`", Essential = true)]
    public string? ArtifactRoot { get; set; }

    [Setting("`/health` reports the artifact store Degraded below this much free disk; a full disk answers uploads with 507")]
    [Range(0, long.MaxValue)]
    public long MinFreeBytes { get; set; } = 1L << 30;

    public string ResolvedDataRoot => Path.GetFullPath(DataRoot);

    public string ResolvedArtifactRoot => Path.GetFullPath(ArtifactRoot ?? Path.Combine(ResolvedDataRoot, "artifacts"));
}

/// <summary><c>ModelOpt:ConnectionStrings</c>.</summary>
public sealed class ConnectionStringsOptions
{
    public const string Section = "ModelOpt:ConnectionStrings";

    [Setting("required when the provider is Postgres", Essential = true)]
    public string? Postgres { get; set; }

    [Setting("the embedded SQLite application database", Default = "`{DataRoot}/modelopt.db`")]
    public string? Sqlite { get; set; }

    [Setting("the embedded SQLite Hangfire database", Default = "`{DataRoot}/hangfire.db`")]
    public string? HangfireSqlite { get; set; }
}

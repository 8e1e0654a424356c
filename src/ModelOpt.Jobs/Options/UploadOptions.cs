using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Uploads</c>.</summary>
public sealed class UploadOptions
{
    public const string Section = "ModelOpt:Uploads";

    /// <summary>Largest accepted checkpoint upload in bytes (default 200 MB); larger requests get 413.</summary>
    [Range(1024, 64L * 1024 * 1024 * 1024)]
    public long MaxBytes { get; set; } = 200L * 1024 * 1024;
}

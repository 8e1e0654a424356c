using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Uploads</c>.</summary>
public sealed class UploadOptions
{
    public const string Section = "ModelOpt:Uploads";

    /// <summary>Largest accepted checkpoint upload in bytes (default 600 MiB: VGG-16 is 528 MB); larger requests get 413.</summary>
    [Range(1024, 64L * 1024 * 1024 * 1024)]
    public long MaxBytes { get; set; } = 600L * 1024 * 1024;
}

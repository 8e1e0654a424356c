using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:Uploads</c>.</summary>
public sealed class UploadOptions
{
    public const string Section = "ModelOpt:Uploads";

    [Setting("largest checkpoint upload; larger ones get 413", Essential = true)]
    [Range(1024, 64L * 1024 * 1024 * 1024)]
    public long MaxBytes { get; set; } = 600L * 1024 * 1024;
}

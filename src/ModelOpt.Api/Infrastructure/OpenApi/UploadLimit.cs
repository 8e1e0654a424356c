namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>Which configured size limit a streamed upload is held to, for its OpenAPI description.</summary>
public enum UploadLimit
{
    /// <summary><c>ModelOpt:Uploads:MaxBytes</c>.</summary>
    Checkpoint,

    /// <summary><c>ModelOpt:DatasetUploads:MaxBytes</c>.</summary>
    Dataset,
}

namespace ModelOpt.Api.Infrastructure.OpenApi;

public static class OpenApiEndpointExtensions
{
    /// <summary>Declares the parts of a multipart body that the handler streams itself (see <see cref="MultipartFormOperationFilter"/>).</summary>
    public static RouteHandlerBuilder AcceptsMultipartForm(this RouteHandlerBuilder builder, params MultipartFormField[] fields) =>
        builder.WithMetadata(new MultipartFormMetadata(fields));

    /// <summary>As <see cref="AcceptsMultipartForm(RouteHandlerBuilder, MultipartFormField[])"/>, for an upload held to another size limit.</summary>
    public static RouteHandlerBuilder AcceptsMultipartForm(this RouteHandlerBuilder builder, UploadLimit limit, params MultipartFormField[] fields) =>
        builder.WithMetadata(new MultipartFormMetadata(fields, limit));
    /// <summary>The handler honours an <c>Idempotency-Key</c> header; the OpenAPI document says so.</summary>
    public static RouteHandlerBuilder AcceptsIdempotencyKey(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new IdempotencyKeyMetadata());

    /// <summary>A 200 whose body is a file: Swagger UI then offers the response as a download.</summary>
    public static RouteHandlerBuilder ProducesFile(this RouteHandlerBuilder builder) =>
        builder.Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream");
}

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>
/// Endpoint metadata for a handler that streams a multipart body itself (no model binding), so that the OpenAPI document
/// still describes its parts: Swagger UI's form, its curl line and generated clients then send what the handler reads.
/// </summary>
public sealed record MultipartFormMetadata(IReadOnlyList<MultipartFormField> Fields);

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>One part of a multipart/form-data body, as the handler reads it.</summary>
/// <param name="Name">The part's name in Content-Disposition.</param>
/// <param name="Description">What the part holds, for the OpenAPI document.</param>
/// <param name="IsFile">A file part (binary) rather than a text field.</param>
/// <param name="Required">The request is refused without it.</param>
public sealed record MultipartFormField(string Name, string Description, bool IsFile = false, bool Required = false);

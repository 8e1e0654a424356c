using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>
/// Declares every answer an operation can give besides its own, from the endpoint's metadata rather than by hand per endpoint:
/// 400 (an unknown query parameter or a bad value, on every operation), 401/403 (a key is needed), 429 (the rate limit),
/// 503 (the database is down), 415 and 413 for bodies, 422 for an Idempotency-Key reused with another body, and the range
/// answers of file downloads (206, 304, 416). Each error is problem details (application/problem+json). Also declares the
/// request headers (<see cref="RequestHeaderMetadata"/>) and raw bodies (<see cref="RawBodyMetadata"/>) handlers read.
/// </summary>
public sealed class ResponsesOperationFilter : IOperationFilter
{
    private const string ProblemJson = "application/problem+json";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var path = "/" + (context.ApiDescription.RelativePath ?? "");
        if (!path.StartsWith("/api/", StringComparison.Ordinal))
        {
            return;
        }
        operation.Responses ??= [];
        var problem = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository);
        var validation = context.SchemaGenerator.GenerateSchema(typeof(HttpValidationProblemDetails), context.SchemaRepository);

        foreach (var body in metadata.OfType<RawBodyMetadata>())
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = body.Description,
                Content = new Dictionary<string, IOpenApiMediaType>
                {
                    [body.MediaType] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                },
            };
        }
        foreach (var header in metadata.OfType<RequestHeaderMetadata>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name,
                In = ParameterLocation.Header,
                Required = header.Required,
                Description = header.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        Add(operation, 400, "The request is invalid: a field, a query parameter (unknown ones are refused) or a header; `errors` names each.", validation);
        var authorized = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
        if (authorized)
        {
            Add(operation, 401, "No API key, or an unknown or revoked one (WWW-Authenticate: Bearer).", problem,
                ("WWW-Authenticate", "Bearer"));
            Add(operation, 403, "The API key's scope is not enough for this operation.", problem);
        }
        if (context.ApiDescription.ParameterDescriptions.Any(p => p.Source?.Id == "Path"))
        {
            Add(operation, 404, "The resource does not exist.", problem);
        }
        if (operation.RequestBody is not null)
        {
            Add(operation, 415, "The body is not of the documented media type.", problem);
        }
        if (operation.RequestBody?.Content?.Keys.Any(k => k is MultipartFormOperationFilter.MediaType) == true)
        {
            Add(operation, 413, "The upload exceeds its configured size limit.", problem);
        }
        if (metadata.OfType<IdempotencyKeyMetadata>().Any())
        {
            Add(operation, 422, "The Idempotency-Key was used before with another request body (draft-ietf-httpapi-idempotency-key-header).", problem);
        }
        if (operation.Responses.TryGetValue("200", out var ok) && ok.Content?.ContainsKey("application/octet-stream") == true)
        {
            var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
            operation.Responses["206"] = new OpenApiResponse
            {
                Description = "The requested range of the file (Range: bytes=…); Content-Range says which.",
                Content = new Dictionary<string, IOpenApiMediaType> { ["application/octet-stream"] = new OpenApiMediaType { Schema = binary } },
            };
            operation.Responses["304"] = new OpenApiResponse { Description = "Not modified: If-None-Match held the file's ETag (its SHA-256)." };
            operation.Responses["416"] = new OpenApiResponse { Description = "The Range lies outside the file; Content-Range gives its length." };
        }
        Add(operation, 429, "This caller's rate limit is used up; Retry-After says when to try again.", problem, ("Retry-After", "Seconds to wait."));
        Add(operation, 503, "The database cannot be reached; nothing was changed. Retry-After says when to try again.", problem,
            ("Retry-After", "Seconds to wait."));
    }

    /// <summary>Adds a problem-details answer unless the endpoint declared that status itself.</summary>
    private static void Add(OpenApiOperation operation, int status, string description, IOpenApiSchema schema, params (string Name, string Description)[] headers)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }
        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, IOpenApiMediaType> { [ProblemJson] = new OpenApiMediaType { Schema = schema } },
            Headers = headers.Length == 0
                ? null
                : headers.ToDictionary(h => h.Name, h => (IOpenApiHeader)new OpenApiHeader
                {
                    Description = h.Description,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                }),
        };
    }
}

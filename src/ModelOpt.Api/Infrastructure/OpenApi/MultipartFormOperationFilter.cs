using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using ModelOpt.Jobs.Options;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>Describes a streamed multipart body (<see cref="MultipartFormMetadata"/>) as an object with one property per part.</summary>
public sealed class MultipartFormOperationFilter(IOptions<UploadOptions> uploads) : IOperationFilter
{
    public const string MediaType = "multipart/form-data";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var form = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<MultipartFormMetadata>().SingleOrDefault();
        if (form is null)
        {
            return;
        }
        var maxBytes = uploads.Value.MaxBytes;
        var limit = FormattableString.Invariant(
            $" At most {maxBytes / (1024.0 * 1024.0):0.#} MiB ({maxBytes} bytes, ModelOpt:Uploads:MaxBytes); larger uploads get 413.");
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>(),
            Required = new HashSet<string>(),
        };
        foreach (var field in form.Fields)
        {
            schema.Properties[field.Name] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Format = field.IsFile ? "binary" : null,
                Description = field.IsFile ? field.Description + limit : field.Description,
            };
            if (field.Required)
            {
                schema.Required.Add(field.Name);
            }
        }
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, IOpenApiMediaType> { [MediaType] = new OpenApiMediaType { Schema = schema } },
        };
    }
}

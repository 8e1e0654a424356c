using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>Documents the optional <c>Idempotency-Key</c> header on the operations that read it.</summary>
public sealed class IdempotencyKeyOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IdempotencyKeyMetadata>().Any())
        {
            return;
        }
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = IdempotencyKey.Header,
            In = ParameterLocation.Header,
            Required = false,
            Description = "Optional, 1-200 printable characters (a UUID, say). A retry with the key of an earlier request of the same API key "
                          + "answers that request's result and creates nothing new.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200 },
        });
    }
}

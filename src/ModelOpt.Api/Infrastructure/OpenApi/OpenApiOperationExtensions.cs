using Microsoft.OpenApi;

namespace ModelOpt.Api.Infrastructure.OpenApi;

public static class OpenApiOperationExtensions
{
    /// <summary>The operation's path parameters of that name (an operation has at most one, but may have none).</summary>
    public static IEnumerable<OpenApiParameter> PathParameters(this OpenApiOperation operation, string name) =>
        (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => p.In == ParameterLocation.Path && p.Name == name);
}

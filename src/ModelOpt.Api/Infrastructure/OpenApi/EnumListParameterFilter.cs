using System.Reflection;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>A parameter marked <see cref="EnumListAttribute"/> is an array of that enum's names, sent comma-separated.</summary>
public sealed class EnumListParameterFilter : IParameterFilter
{
    public void Apply(IOpenApiParameter parameter, ParameterFilterContext context)
    {
        if (context.ParameterInfo?.GetCustomAttribute<EnumListAttribute>() is not { } list || parameter is not OpenApiParameter target)
        {
            return;
        }
        target.Schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Array,
            Items = context.SchemaGenerator.GenerateSchema(list.EnumType, context.SchemaRepository),
        };
        target.Style = ParameterStyle.Form;
        target.Explode = false;
    }
}

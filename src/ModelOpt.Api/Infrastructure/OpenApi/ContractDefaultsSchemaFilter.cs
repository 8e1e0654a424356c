using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>
/// Derives from the C# definitions what a generated client needs to send the right request and read every answer:
/// <list type="bullet">
/// <item>a settable request class (it has a parameterless constructor): each property's <c>default</c> is the value a new
/// instance holds, so the default is written once, in the class; a property with a default is not <c>required</c> (the
/// server fills it in), whatever its validation attributes say;</item>
/// <item>a string property with allowed values lists them as its <c>enum</c>;</item>
/// <item>an answer record (positional, no parameterless constructor): every property is <c>required</c>, as the server always
/// sends all of them (null where the schema says nullable).</item>
/// </list>
/// </summary>
public sealed class ContractDefaultsSchemaFilter(IOptions<JsonOptions> json) : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema { Properties.Count: > 0 } target || !IsContract(context.Type))
        {
            return;
        }
        var options = json.Value.SerializerOptions;
        var properties = context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .ToDictionary(p => options.PropertyNamingPolicy?.ConvertName(p.Name) ?? p.Name);
        if (context.Type.GetConstructor(Type.EmptyTypes) is null)
        {
            target.Required = new HashSet<string>(target.Properties.Keys);
            return;
        }
        var instance = Activator.CreateInstance(context.Type)!;
        foreach (var (name, propertySchema) in target.Properties)
        {
            if (!properties.TryGetValue(name, out var property))
            {
                continue;
            }
            // A string setting with allowed values ([AllowedValues], the observer names) is an enum of them for generators.
            if (property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed && propertySchema is OpenApiSchema choice)
            {
                choice.Enum = allowed.Values.Select(v => (JsonNode)JsonValue.Create(v?.ToString())!).ToList();
            }
            if (property.GetValue(instance) is not { } value)
            {
                continue;
            }
            target.Required?.Remove(name);
            var node = JsonSerializer.SerializeToNode(value, property.PropertyType, options);
            // Scalars and lists: a nested settings object declares its own properties' defaults.
            if (node is JsonValue or JsonArray && propertySchema is OpenApiSchema inline)
            {
                inline.Default = node;
            }
        }
    }

    private static bool IsContract(Type type) =>
        type.IsClass && type.Namespace is { } ns && ns.StartsWith("ModelOpt.", StringComparison.Ordinal) && !type.IsAbstract;
}

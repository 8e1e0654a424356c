using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>
/// Fails the request of any test whose answer the committed OpenAPI document (docs/openapi.json) does not describe: a
/// status code the operation does not declare, or a JSON body its schema refuses (a missing or extra property, a null where
/// the document says not nullable, an enum value it does not list). Every client of <see cref="ServiceFactory"/> goes
/// through it, so every answer of the service tests checks the contract, not a chosen few.
/// </summary>
public sealed class ContractGuard : DelegatingHandler
{
    private const string SnapshotPath = "docs/openapi.json";
    private static readonly Lazy<Contract> Document = new(() => new Contract(Path.Combine(RepositoryPaths.Root, SnapshotPath)));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var path = request.RequestUri!.IsAbsoluteUri ? request.RequestUri.AbsolutePath : request.RequestUri.OriginalString.Split('?')[0];
        if (Document.Value.Find(request.Method.Method, path) is not { } operation)
        {
            return response; // Pages, Swagger UI, /health, the dashboard, or a route the API does not have (its 404 is the framework's).
        }
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses?[status] is not JsonObject declared)
        {
            throw new InvalidOperationException($"{request.Method} {path} answered {status}, which docs/openapi.json does not declare for it.");
        }
        if (response.Content.Headers.ContentType?.MediaType is { } type && type.EndsWith("json", StringComparison.Ordinal)
            && declared["content"]?[type]?["schema"] is { } schema)
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var results = Document.Value.Schema(schema).Evaluate(body.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!results.IsValid)
            {
                var errors = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                    .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Distinct().Take(10);
                throw new InvalidOperationException(
                    $"{request.Method} {path} answered {status} with a body docs/openapi.json refuses: {string.Join("; ", errors)}");
            }
        }
        return response;
    }

    /// <summary>The document's operations by path template, and its schemas as JSON Schema 2020-12.</summary>
    private sealed class Contract
    {
        private readonly List<(Regex Path, int Parameters, JsonObject Item)> paths = [];
        private readonly JsonObject definitions = new();
        private readonly ConcurrentDictionary<string, JsonSchema> schemas = new();

        public Contract(string file)
        {
            var document = JsonNode.Parse(File.ReadAllText(file))!;
            foreach (var (template, item) in document["paths"]!.AsObject())
            {
                // {path} of the worker files is a catch-all ({**path}); every other parameter is one segment.
                var pattern = "^" + Regex.Replace(Regex.Escape(template), @"\\\{([^}]+)}",
                    m => m.Groups[1].Value == "path" ? ".+" : "[^/]+") + "$";
                paths.Add((new Regex(pattern), template.Count(c => c == '{'), item!.AsObject()));
            }
            paths.Sort((a, b) => a.Parameters.CompareTo(b.Parameters));
            foreach (var (name, schema) in document["components"]!["schemas"]!.AsObject())
            {
                definitions[name] = ToJsonSchema(schema!.DeepClone());
            }
        }

        public OperationView? Find(string method, string path)
        {
            foreach (var (regex, _, item) in paths)
            {
                if (regex.IsMatch(path))
                {
                    return item[method.ToLowerInvariant()] is JsonObject operation ? new OperationView(operation["responses"] as JsonObject) : null;
                }
            }
            return null;
        }

        public JsonSchema Schema(JsonNode openApiSchema) => schemas.GetOrAdd(openApiSchema.ToJsonString(), key =>
        {
            var root = ToJsonSchema(JsonNode.Parse(key)!).AsObject();
            root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
            root["$defs"] = definitions.DeepClone();
            return JsonSchema.FromText(root.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        });

        /// <summary>OpenAPI 3.0 to JSON Schema: <c>nullable</c> becomes a null alternative, component references local <c>$defs</c>.</summary>
        private static JsonNode ToJsonSchema(JsonNode node)
        {
            switch (node)
            {
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        array[i] = array[i] is { } item ? ToJsonSchema(item.DeepClone()) : null;
                    }
                    return array;
                case JsonObject obj:
                    foreach (var key in obj.Select(p => p.Key).ToList())
                    {
                        if (key is "example" or "examples" or "default")
                        {
                            continue;
                        }
                        if (obj[key] is { } child)
                        {
                            obj[key] = ToJsonSchema(child.DeepClone());
                        }
                    }
                    if (obj["$ref"] is JsonValue reference)
                    {
                        obj["$ref"] = reference.GetValue<string>().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
                    }
                    if (obj["nullable"]?.GetValue<bool>() == true)
                    {
                        obj.Remove("nullable");
                        return new JsonObject { ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "null" }, obj) };
                    }
                    obj.Remove("nullable");
                    return obj;
                default:
                    return node;
            }
        }
    }

    private sealed record OperationView(JsonObject? Responses);
}

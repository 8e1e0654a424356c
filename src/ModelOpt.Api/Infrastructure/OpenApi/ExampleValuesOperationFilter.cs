using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using ModelOpt.Engine.Pipeline;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>
/// What "Try it out" needs to work as it stands: the job examples, the int8 model as the artifact name, and for every id
/// where to find one (<see cref="ExistingResourceExamplesFilter"/> pre-fills the newest).
/// </summary>
public sealed class ExampleValuesOperationFilter : IOperationFilter
{
    private static readonly Dictionary<string, string> IdDescriptions = new()
    {
        ["api/jobs/{id"] = "Job id: POST /api/jobs answers with it, GET /api/jobs lists them.",
        ["api/checkpoints/{id"] = "Checkpoint id: POST /api/checkpoints answers with it, GET /api/checkpoints lists them.",
        ["api/datasets/{id"] = "Uploaded dataset id: POST /api/datasets answers with it, GET /api/datasets lists them.",
        ["api/keys/{id"] = "API key id: POST /api/keys answers with it, GET /api/keys lists them (admin).",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var route = context.ApiDescription.RelativePath ?? "";
        var idDescription = IdDescriptions.FirstOrDefault(d => route.StartsWith(d.Key, StringComparison.Ordinal)).Value;
        foreach (var parameter in operation.PathParameters("id"))
        {
            parameter.Description = idDescription;
        }
        if (operation.RequestBody?.Content?.TryGetValue("application/json", out var json) == true && json is OpenApiMediaType concrete
            && context.ApiDescription.ParameterDescriptions.Any(p => p.Type == typeof(CreateJobRequest)))
        {
            concrete.Examples = JobRequestExamples.All.ToDictionary(e => e.Key, IOpenApiExample (e) =>
                new OpenApiExample { Summary = e.Summary, Description = e.Description, Value = e.Value.DeepClone() });
        }
        foreach (var parameter in operation.PathParameters("name"))
        {
            parameter.Example = JsonValue.Create(JobWorkspace.Int8TorchScript);
        }
    }
}

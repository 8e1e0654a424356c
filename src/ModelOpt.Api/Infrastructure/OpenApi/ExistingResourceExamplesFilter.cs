using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using ModelOpt.Jobs.Infrastructure;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>
/// Fills the examples that depend on what exists: path ids with the newest job and checkpoint, and the
/// uploaded-checkpoint job example with the newest upload. Swashbuckle builds the document per request, so the
/// examples follow the database; with nothing stored the document keeps its static examples.
/// </summary>
public sealed class ExistingResourceExamplesFilter(IServiceScopeFactory scopes) : IDocumentAsyncFilter
{
    public async Task ApplyAsync(OpenApiDocument document, DocumentFilterContext context, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var jobId = await db.Jobs.AsNoTracking().OrderByDescending(j => j.CreatedAt).Select(j => (Guid?)j.Id).FirstOrDefaultAsync(cancellationToken);
        var checkpoint = await db.Checkpoints.AsNoTracking().OrderByDescending(c => c.CreatedAt)
            .Select(c => new { c.Id, c.Model }).FirstOrDefaultAsync(cancellationToken);
        var datasetId = await db.Datasets.AsNoTracking().OrderByDescending(d => d.CreatedAt).Select(d => (Guid?)d.Id).FirstOrDefaultAsync(cancellationToken);

        foreach (var (path, item) in document.Paths)
        {
            var id = path.StartsWith("/api/jobs/{id}", StringComparison.Ordinal) ? jobId
                : path.StartsWith("/api/checkpoints/{id}", StringComparison.Ordinal) ? checkpoint?.Id
                : path.StartsWith("/api/datasets/{id}", StringComparison.Ordinal) ? datasetId
                : null;
            foreach (var operation in item.Operations?.Values.AsEnumerable() ?? [])
            {
                if (id is not null)
                {
                    foreach (var parameter in operation.PathParameters("id"))
                    {
                        parameter.Example = JsonValue.Create(id.Value.ToString());
                    }
                }
                if (datasetId is not null && JobExample(operation, JobRequestExamples.UploadedDataset) is { } datasetRequest)
                {
                    datasetRequest["dataset"] = datasetId.Value.ToString();
                }
                if (checkpoint is not null && JobExample(operation, JobRequestExamples.UploadedCheckpoint) is { } request)
                {
                    request["checkpointId"] = checkpoint.Id.ToString();
                    if (checkpoint.Model is not null)
                    {
                        request["model"] = checkpoint.Model;
                    }
                }
            }
        }
    }

    private static JsonObject? JobExample(OpenApiOperation operation, string name) =>
        operation.RequestBody?.Content?.TryGetValue("application/json", out var json) == true
        && json.Examples?.TryGetValue(name, out var example) == true
        && example is OpenApiExample { Value: JsonObject request }
            ? request
            : null;
}

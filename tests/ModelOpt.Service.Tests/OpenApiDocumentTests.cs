using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The OpenAPI document is the contract Swagger UI and generated clients work from: it reads without errors or warnings,
/// describes what the handlers really read, and equals the committed snapshot (docs/openapi.json), so a contract change
/// shows in review. After an intended change: MODELOPT_UPDATE_OPENAPI=1 dotnet test --filter OpenApiDocumentTests.
/// </summary>
public sealed class OpenApiDocumentTests
{
    private const string SnapshotPath = "docs/openapi.json";

    private static async Task<string> DocumentAsync()
    {
        await using var factory = new ServiceFactory(ServiceFactory.Sqlite(embeddedWorker: false));
        return await factory.CreateClient().GetStringAsync("/swagger/v1/swagger.json");
    }

    [Fact]
    public async Task The_document_reads_and_validates_without_errors_or_warnings()
    {
        var json = await DocumentAsync();
        var settings = new OpenApiReaderSettings();
        var result = OpenApiDocument.Parse(json, OpenApiConstants.Json, settings);

        Assert.NotNull(result.Document);
        Assert.Empty(result.Diagnostic!.Errors.Select(e => e.ToString()));
        Assert.Empty(result.Diagnostic.Warnings.Select(e => e.ToString()));
        Assert.Empty(result.Document.Validate(ValidationRuleSet.GetDefaultRuleSet())!.Select(e => e.ToString()));
        Assert.Contains("/api/checkpoints", result.Document.Paths.Keys);
    }

    [Fact]
    public async Task The_checkpoint_upload_is_an_object_with_a_required_binary_file_part_and_a_model_field()
    {
        var upload = JsonNode.Parse(await DocumentAsync())!["paths"]!["/api/checkpoints"]!["post"]!;
        var schema = upload["requestBody"]!["content"]!["multipart/form-data"]!["schema"]!;

        Assert.Equal("object", schema["type"]!.GetValue<string>());
        Assert.Equal(["file"], schema["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("binary", schema["properties"]!["file"]!["format"]!.GetValue<string>());
        Assert.Contains("600 MiB", schema["properties"]!["file"]!["description"]!.GetValue<string>());
        Assert.Equal("string", schema["properties"]!["model"]!["type"]!.GetValue<string>());
        // The model travels in the form only; the one parameter is the optional Idempotency-Key header.
        Assert.Equal(["Idempotency-Key"], upload["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_dataset_upload_is_an_object_with_a_required_binary_file_part_and_a_name_field_held_to_its_own_limit()
    {
        var upload = JsonNode.Parse(await DocumentAsync())!["paths"]!["/api/datasets"]!["post"]!;
        var schema = upload["requestBody"]!["content"]!["multipart/form-data"]!["schema"]!;

        Assert.Equal(["file"], schema["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("binary", schema["properties"]!["file"]!["format"]!.GetValue<string>());
        Assert.Contains("2048 MiB (2147483648 bytes, ModelOpt:DatasetUploads:MaxBytes)", schema["properties"]!["file"]!["description"]!.GetValue<string>());
        Assert.Equal("string", schema["properties"]!["name"]!["type"]!.GetValue<string>());
        Assert.Equal(["Idempotency-Key"], upload["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Every_operation_says_what_to_fill_in_and_downloads_are_files()
    {
        var document = JsonNode.Parse(await DocumentAsync())!;
        var paths = document["paths"]!.AsObject();
        foreach (var (path, item) in paths)
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                foreach (var parameter in operation!["parameters"]?.AsArray() ?? [])
                {
                    // An enum is a drop-down in Swagger UI: its values say what to fill in.
                    var schema = parameter!["schema"]!["$ref"] is { } reference
                        ? document["components"]!["schemas"]![reference.GetValue<string>().Split('/')[^1]]!
                        : parameter["schema"]!;
                    var described = parameter["description"] is not null || parameter["example"] is not null || schema["enum"] is not null;
                    Assert.True(described, $"{method.ToUpperInvariant()} {path}: parameter '{parameter["name"]}' has no description or example");
                }
            }
        }
        foreach (var download in new[] { "/api/jobs/{id}/artifacts/{name}", "/api/checkpoints/{id}/content" })
        {
            var ok = paths[download]!["get"]!["responses"]!["200"]!["content"]!["application/octet-stream"]!["schema"]!;
            Assert.Equal("binary", ok["format"]!.GetValue<string>());
        }
        var examples = paths["/api/jobs"]!["post"]!["requestBody"]!["content"]!["application/json"]!["examples"]!.AsObject();
        Assert.Equal(["uploaded-checkpoint", "notebook", "quick-training", "uploaded-dataset"], examples.Select(e => e.Key));
    }

    [Fact]
    public async Task The_document_equals_the_committed_snapshot()
    {
        var json = JsonNode.Parse(await DocumentAsync())!.ToJsonString(new() { WriteIndented = true }) + "\n";
        var snapshot = Path.Combine(RepositoryPaths.Root, SnapshotPath);
        if (Environment.GetEnvironmentVariable("MODELOPT_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(snapshot, json);
        }
        Assert.True(File.Exists(snapshot), $"{SnapshotPath} is missing: run MODELOPT_UPDATE_OPENAPI=1 dotnet test --filter OpenApiDocumentTests");
        Assert.True(json == await File.ReadAllTextAsync(snapshot),
            $"The OpenAPI document differs from {SnapshotPath}. If the change is intended, run "
            + "MODELOPT_UPDATE_OPENAPI=1 dotnet test --filter OpenApiDocumentTests and commit the file.");
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Security;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Service.Tests;

/// <summary>
/// Tenancy on PostgreSQL (ADR-024): team B's key on team A's checkpoint, dataset, job and its artifact through every
/// operation of the live OpenAPI document and every page (read from the routing table), so that a new endpoint is
/// covered without editing this test; admin keys see and move both teams' work. No job runs: the job is submitted
/// with no worker, and its artifact and layer rows are written as <c>StageRecorder</c> writes them.
/// </summary>
public sealed class TenancyTests : PostgresApiTest
{
    private const string SharedIdempotencyKey = "same-key-in-two-teams";
    private const string ArtifactName = "model-int8.pt";

    // Both teams upload these same bytes under the same Idempotency-Key: shared keys would answer B with A's rows.
    private static readonly byte[] CheckpointBytes = TestCheckpoints.Safetensors();
    private static readonly byte[] DatasetBytes = TestDatasets.Zip(TestDatasets.GoodImageFolder());

    /// <summary>A team's key and what it made; <see cref="Markers"/> are strings only that team's answers may contain.</summary>
    private sealed record TeamWork(HttpClient Client, Guid Checkpoint, Guid Dataset, Guid Job, string DatasetName)
    {
        public string[] Markers => [Checkpoint.ToString(), Dataset.ToString(), Job.ToString(), DatasetName];
    }

    [Fact]
    public async Task Team_B_gets_404_or_an_empty_list_for_team_As_work_on_every_operation_and_page()
    {
        var a = await TeamWithWorkAsync("team-a");
        var b = await TeamWithWorkAsync("team-b");
        // The same Idempotency-Key in two teams made two checkpoints: B's retry did not answer A's.
        Assert.NotEqual(a.Checkpoint, b.Checkpoint);

        using var anonymous = Factory.CreateAnonymousClient();
        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/swagger/v1/swagger.json")).RootElement;
        var probed = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var method = operation.Name.ToUpperInvariant();
                var operationId = operation.Value.GetProperty("operationId").GetString()!;
                if (NotTeamData(path.Name) is not null)
                {
                    continue;
                }
                var (request, sent) = Request(method, path.Name, operation.Value, operationId, a);
                var response = await b.Client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                var call = $"{method} {path.Name} ({operationId}) with team B's key on team A's work";
                if (AdminOnly.Contains(operationId))
                {
                    Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{call}: {(int)response.StatusCode} {body}");
                }
                else if (path.Name.Contains('{') || operationId is "CreateJob" or "CompareJobs")
                {
                    Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{call}: {(int)response.StatusCode} {body}");
                }
                else
                {
                    Assert.True(response.IsSuccessStatusCode, $"{call}: {(int)response.StatusCode} {body}");
                }
                // A 404 may name the id it was asked for; nothing else of A's may appear.
                Assert.DoesNotContain(a.Markers, marker => body.Contains(marker, StringComparison.Ordinal) && !sent.Contains(marker, StringComparison.Ordinal));
                request.Dispose();
                probed.Add(operationId);
            }
        }
        // The document's team data: every operation on checkpoints, datasets and jobs, and the moves.
        Assert.True(probed.Count >= 20, $"only {probed.Count} operations probed: {string.Join(", ", probed)}");

        foreach (var page in Pages(a))
        {
            var response = await b.Client.GetAsync(page);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"page {page}: {(int)response.StatusCode}");
            Assert.DoesNotContain(a.Markers, marker => body.Contains(marker, StringComparison.Ordinal) && !page.Contains(marker, StringComparison.Ordinal));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await b.Client.GetAsync($"/jobs/{a.Job}")).StatusCode);

        // Nothing B asked for happened to A's work: it is all there, the job still queued.
        Assert.Equal(JobStatus.Queued, (await a.Client.GetJobAsync(a.Job)).Status);
        Assert.Equal(HttpStatusCode.OK, (await a.Client.GetAsync($"/api/checkpoints/{a.Checkpoint}/content")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.Client.GetAsync($"/api/datasets/{a.Dataset}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.Client.GetAsync($"/api/jobs/{a.Job}/artifacts/{ArtifactName}")).StatusCode);
        Assert.Single((await a.Client.GetFromJsonAsync<List<JobLayerDto>>($"/api/jobs/{a.Job}/layers", ApiClient.Json))!);
    }

    [Fact]
    public async Task An_admin_key_sees_both_teams_moves_a_resource_from_one_to_the_other_and_makes_keys_for_a_named_team()
    {
        var a = await TeamWithWorkAsync("team-a");
        var b = await TeamWithWorkAsync("team-b");
        var admin = Client;

        var jobs = (await admin.GetFromJsonAsync<PagedResult<JobSummaryDto>>("/api/jobs", ApiClient.Json))!.Items.Select(j => j.Id).ToList();
        Assert.Contains(a.Job, jobs);
        Assert.Contains(b.Job, jobs);
        var checkpoints = (await admin.GetFromJsonAsync<PagedResult<CheckpointDto>>("/api/checkpoints", ApiClient.Json))!.Items.Select(c => c.Id).ToList();
        Assert.Contains(a.Checkpoint, checkpoints);
        Assert.Contains(b.Checkpoint, checkpoints);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/jobs/{a.Job}/artifacts/{ArtifactName}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/jobs/{b.Job}")).StatusCode);

        var unknownTeam = await admin.PutAsJsonAsync($"/api/jobs/{a.Job}/team", new { team = "nobody" });
        Assert.Contains("No team 'nobody'", (await unknownTeam.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("team")[0].GetString());
        await (await admin.PutAsJsonAsync($"/api/jobs/{Guid.NewGuid()}/team", new { team = "team-b" })).ProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/jobs/{a.Job}/team", new { team = "team-b" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/checkpoints/{a.Checkpoint}/team", new { team = "team-b" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/datasets/{a.Dataset}/team", new { team = "team-b" })).StatusCode);
        // The job moved with its artifacts and layers.
        Assert.Equal(HttpStatusCode.OK, (await b.Client.GetAsync($"/api/jobs/{a.Job}/artifacts/{ArtifactName}")).StatusCode);
        Assert.Single((await b.Client.GetFromJsonAsync<List<JobLayerDto>>($"/api/jobs/{a.Job}/layers", ApiClient.Json))!);
        Assert.Equal(HttpStatusCode.OK, (await b.Client.GetAsync($"/api/checkpoints/{a.Checkpoint}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.Client.GetAsync($"/api/datasets/{a.Dataset}")).StatusCode);
        await (await a.Client.GetAsync($"/api/jobs/{a.Job}")).ProblemAsync(HttpStatusCode.NotFound);
        await (await a.Client.GetAsync($"/api/jobs/{a.Job}/artifacts/{ArtifactName}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty((await a.Client.GetFromJsonAsync<PagedResult<JobSummaryDto>>("/api/jobs", ApiClient.Json))!.Items);

        // In the same test, to start the API once: keys are made for a team by its name.
        await KeysAreCreatedForNamedTeamsAsync();
    }

    /// <summary>POST /api/keys names the team (new names create it, left out the admin's own); two keys of one team share its work.</summary>
    private async Task KeysAreCreatedForNamedTeamsAsync()
    {
        var created = await (await Client.PostAsJsonAsync("/api/keys", new { name = "ci", scope = "write", team = "team-c" })).ReadAsync<CreatedApiKeyDto>();
        Assert.Equal("team-c", created.Team);
        var second = await (await Client.PostAsJsonAsync("/api/keys", new { name = "ci 2", scope = "read", team = "team-c" })).ReadAsync<CreatedApiKeyDto>();
        Assert.Contains((await Client.GetFromJsonAsync<PagedResult<ApiKeyDto>>("/api/keys?pageSize=200", ApiClient.Json))!.Items, k => k.Id == second.Id && k.Team == "team-c");
        var adminOwn = await (await Client.PostAsJsonAsync("/api/keys", new { name = "no team named", scope = "read" })).ReadAsync<CreatedApiKeyDto>();
        Assert.Equal(Team.DefaultName, adminOwn.Team);
        var refused = await Client.PostAsJsonAsync("/api/keys", new { name = "bad", scope = "read", team = "a\u0000b" });
        Assert.True((await refused.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("team", out _));

        var writer = Factory.CreateClient(created.Key);
        var reader = Factory.CreateClient(second.Key);
        var checkpoint = await (await writer.PostAsync("/api/checkpoints", TestCheckpoints.Form(TestCheckpoints.Safetensors(), "c.safetensors"))).ReadAsync<CheckpointDto>();
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/checkpoints/{checkpoint.Id}")).StatusCode);
        // An admin key, of another team, sees it too.
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"/api/checkpoints/{checkpoint.Id}")).StatusCode);
    }

    /// <summary>A write key of a new team, with a checkpoint and a dataset uploaded under <see cref="SharedIdempotencyKey"/> and a queued job that has an artifact and a layer.</summary>
    private async Task<TeamWork> TeamWithWorkAsync(string team)
    {
        var client = Factory.CreateClient(await Factory.CreateKeyAsync(ApiKeyScope.Write, team));
        var checkpoint = await (await client.SendAsync(Upload("/api/checkpoints", TestCheckpoints.Form(CheckpointBytes, "model.safetensors"))))
            .ReadAsync<CheckpointDto>();
        var datasetName = DatasetName(team);
        var dataset = await (await client.SendAsync(Upload("/api/datasets", TestDatasets.Form(DatasetBytes, "set.zip", datasetName))))
            .ReadAsync<DatasetDto>();
        var job = await client.SubmitAsync(new { model = ModelZoo.ResNet20, dataset = dataset.Id.ToString() });

        await using var scope = Factory.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<ArtifactStore>();
        var relativePath = ArtifactStore.JobArtifactPath(job.Id, $"Convert/{ArtifactName}");
        var content = new byte[] { 1, 2, 3 };
        Directory.CreateDirectory(Path.GetDirectoryName(store.FullPath(relativePath))!);
        await File.WriteAllBytesAsync(store.FullPath(relativePath), content);
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        db.JobArtifacts.Add(new JobArtifact
        {
            JobId = job.Id, Stage = PipelineStage.Convert, Name = ArtifactName, ContentType = "application/octet-stream",
            RelativePath = relativePath, SizeBytes = content.Length, Sha256 = TestCheckpoints.Sha256(content), CreatedAt = DateTime.UtcNow,
        });
        db.JobLayers.Add(new JobLayer { JobId = job.Id, Rank = 0, Layer = "conv1", Kind = "conv" });
        await db.SaveChangesAsync();
        // Stages, results and artifacts are read once the job has started.
        await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(u => u.SetProperty(j => j.StartedAt, DateTime.UtcNow));
        return new TeamWork(client, checkpoint.Id, dataset.Id!.Value, job.Id, datasetName);
    }

    private static string DatasetName(string team) => $"{team}-images";

    private static HttpRequestMessage Upload(string path, HttpContent form) =>
        new(HttpMethod.Post, path) { Content = form, Headers = { { IdempotencyKey.Header, SharedIdempotencyKey } } };

    /// <summary>Why an operation is not a team's data, or null when it is.</summary>
    private static string? NotTeamData(string path) =>
        path.StartsWith("/api/keys", StringComparison.Ordinal) ? "keys are the admin's (AuthTests), not a team's work"
        : path.StartsWith("/api/workers", StringComparison.Ordinal) ? "workers are shared by every team (ADR-024); WorkerFileApiTests covers what a worker may write"
        : path == "/api/models" ? "the zoo catalogue is the same for every team"
        : null;

    private static readonly HashSet<string> AdminOnly = ["MoveCheckpointToTeam", "MoveDatasetToTeam", "MoveJobToTeam"];

    /// <summary>The operation aimed at team A's work: its ids in the path and query, a body naming A's checkpoint and dataset.</summary>
    private static (HttpRequestMessage Request, string Sent) Request(string method, string template, JsonElement operation, string operationId, TeamWork a)
    {
        var path = template.Replace("{name}", ArtifactName, StringComparison.Ordinal);
        if (path.Contains("{id}", StringComparison.Ordinal))
        {
            path = path.Replace("{id}", template.StartsWith("/api/jobs/", StringComparison.Ordinal) ? a.Job.ToString()
                : template.StartsWith("/api/checkpoints/", StringComparison.Ordinal) ? a.Checkpoint.ToString()
                : template.StartsWith("/api/datasets/", StringComparison.Ordinal) ? a.Dataset.ToString()
                : throw new InvalidOperationException($"No id of team A's work for {template}: add its kind here."), StringComparison.Ordinal);
        }
        Assert.DoesNotContain('{', path);
        var query = new List<string>();
        foreach (var parameter in operation.TryGetProperty("parameters", out var parameters) ? parameters.EnumerateArray() : default)
        {
            if (parameter.GetProperty("in").GetString() == "query" && parameter.TryGetProperty("required", out var required) && required.GetBoolean())
            {
                var name = parameter.GetProperty("name").GetString();
                query.Add(name == "ids" ? $"ids={a.Job}" : throw new InvalidOperationException($"{operationId} needs query parameter {name}: give it team A's value here."));
            }
        }
        var request = new HttpRequestMessage(new HttpMethod(method), query.Count == 0 ? path : $"{path}?{string.Join('&', query)}");
        if (!operation.TryGetProperty("requestBody", out _))
        {
            return (request, request.RequestUri!.ToString());
        }
        var json = operationId == "CreateJob"
            ? JsonSerializer.Serialize(new { model = ModelZoo.ResNet20, dataset = a.Dataset.ToString(), checkpointId = a.Checkpoint }, ApiClient.Json)
            : "";
        request.Content = operationId switch
        {
            "CreateJob" => new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
            "UploadCheckpoint" => TestCheckpoints.Form(CheckpointBytes, "model.safetensors"),
            "UploadDataset" => TestDatasets.Form(DatasetBytes, "set.zip", DatasetName("team-b")),
            _ when AdminOnly.Contains(operationId) => JsonContent.Create(new { team = "team-b" }),
            _ => throw new InvalidOperationException($"{operationId} takes a body: give it one aimed at team A's work here."),
        };
        // An upload retried with the key and the file team A used answers B's own upload, never A's.
        request.Headers.Add(IdempotencyKey.Header, SharedIdempotencyKey);
        return (request, request.RequestUri + json);
    }

    /// <summary>Every page in the routing table, its id (a job's) being team A's.</summary>
    private IEnumerable<string> Pages(TeamWork a)
    {
        var pages = Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<PageActionDescriptor>() is not null)
            .Select(e => "/" + string.Join('/', e.RoutePattern.RawText!.TrimStart('/').Split('/')
                .Select(segment => segment.StartsWith('{') ? a.Job.ToString() : segment)))
            .Distinct()
            .ToList();
        Assert.True(pages.Count >= 4, $"pages: {string.Join(", ", pages)}");
        return pages.Append($"/compare?ids={a.Job}").Append($"/?dataset={a.DatasetName}");
    }
}

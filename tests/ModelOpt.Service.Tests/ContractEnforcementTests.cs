using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ModelOpt.Api.Security;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The server enforces what the OpenAPI document says: unknown properties and query parameters are refused, enum names
/// are read in any case (an unknown one lists the allowed names), an Idempotency-Key reused with another body is a 422,
/// every list pages, filters take several values, and errors are problem details whatever the Accept header.
/// </summary>
public sealed class ContractEnforcementTests : PostgresApiTest
{
    private const string Job = """{"model":"resnet20","dataset":"synthetic"}""";

    [Fact]
    public async Task An_unknown_property_is_a_400_naming_it_and_creates_nothing()
    {
        var problem = await (await PostJsonAsync("/api/jobs", """{"model":"resnet20","dataset":"synthetic","training":{"epochz":3}}"""))
            .ProblemAsync(HttpStatusCode.BadRequest);

        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("training.epochz", out var messages), errors.ToString());
        Assert.Contains("Unknown property", messages[0].GetString());
        Assert.DoesNotContain("ModelOpt.", problem.ToString());
        Assert.Equal(0, (await Client.GetFromJsonAsync<PagedResult<JobSummaryDto>>("/api/jobs", ApiClient.Json))!.TotalCount);
    }

    [Fact]
    public async Task A_null_list_setting_is_read_as_empty_not_as_a_failure_later()
    {
        var response = await PostJsonAsync("/api/jobs", """{"model":"resnet20","dataset":"synthetic","quantization":{"keepFloat":null}}""");

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        Assert.Empty((await response.ReadAsync<JobDto>()).Spec.Quantization.KeepFloat);
    }

    [Fact]
    public async Task Enum_names_are_read_in_any_case_and_an_unknown_one_lists_the_allowed_names()
    {
        var created = await PostJsonAsync("/api/keys", """{"name":"ci","scope":"wRiTe"}""");
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        Assert.Equal(ApiKeyScope.Write, (await created.ReadAsync<CreatedApiKeyDto>()).Scope);

        foreach (var body in new[] { """{"name":"ci","scope":"writer"}""", """{"name":"ci","scope":1}""" })
        {
            var problem = await (await PostJsonAsync("/api/keys", body)).ProblemAsync(HttpStatusCode.BadRequest);
            Assert.Contains("Read, Write, Worker, Admin", problem.GetProperty("errors").GetProperty("scope")[0].GetString());
        }
        var choices = await PostJsonAsync("/api/jobs",
            """{"model":"resnet20","dataset":"synthetic","quantization":{"activationObserver":"Moving_Average_MinMax","calibrationSampling":"Stratified"},"preprocessing":{"color":"RGB"}}""");
        Assert.True(choices.StatusCode == HttpStatusCode.Accepted, await choices.Content.ReadAsStringAsync());
        var spec = JsonDocument.Parse(await choices.Content.ReadAsStringAsync()).RootElement.GetProperty("spec");
        // The choices come back in the spelling the document lists, whatever the case they were sent in.
        Assert.Equal(("moving_average_minmax", "stratified", "rgb"),
            (spec.GetProperty("quantization").GetProperty("activationObserver").GetString(), spec.GetProperty("quantization").GetProperty("calibrationSampling").GetString(),
             spec.GetProperty("preprocessing").GetProperty("color").GetString()));

        var query = await (await Client.GetAsync("/api/jobs?status=succeded")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("Queued, Running, Succeeded, Failed, Cancelled", query.GetProperty("errors").GetProperty("status")[0].GetString());
    }

    [Fact]
    public async Task A_status_filter_takes_several_names_in_any_case_comma_separated_or_repeated()
    {
        var queued = await Client.SubmitAsync(JsonOf(Job));
        var cancelled = await Client.SubmitAsync(JsonOf(Job));
        await Client.PostAsync($"/api/jobs/{cancelled.Id}/cancel", null);

        foreach (var query in new[] { "status=queued,CANCELLED", "status=Queued&status=Cancelled" })
        {
            var both = await Client.GetFromJsonAsync<PagedResult<JobSummaryDto>>($"/api/jobs?{query}", ApiClient.Json);
            Assert.Equal([cancelled.Id, queued.Id], both!.Items.Select(j => j.Id));
        }
        var one = await Client.GetFromJsonAsync<PagedResult<JobSummaryDto>>("/api/jobs?status=cancelled", ApiClient.Json);
        Assert.Equal([cancelled.Id], one!.Items.Select(j => j.Id));
    }

    [Fact]
    public async Task An_unknown_query_parameter_is_a_400_naming_it_and_those_the_operation_takes()
    {
        var problem = await (await Client.GetAsync("/api/jobs?stauts=Failed")).ProblemAsync(HttpStatusCode.BadRequest);

        var message = problem.GetProperty("errors").GetProperty("stauts")[0].GetString();
        Assert.Contains("page, pageSize, status", message);
        await (await Client.GetAsync($"/api/jobs/{Guid.NewGuid()}?verbose=1")).ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_same_idempotency_key_with_another_body_is_a_422_and_with_the_same_body_the_first_job()
    {
        var first = await SendJobAsync("key-1", Job);
        var again = await SendJobAsync("key-1", """{"model":"resnet20","dataset":"synthetic","device":"cpu","training":{"epochs":1}}""");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal((await first.ReadAsync<JobDto>()).Id, (await again.ReadAsync<JobDto>()).Id);

        var other = await SendJobAsync("key-1", """{"model":"resnet20","dataset":"synthetic","training":{"epochs":3}}""");

        var problem = await other.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("Idempotency-Key", problem.GetProperty("detail").GetString());
        Assert.Equal(1, (await Client.GetFromJsonAsync<PagedResult<JobSummaryDto>>("/api/jobs", ApiClient.Json))!.TotalCount);
    }

    [Fact]
    public async Task The_same_idempotency_key_with_another_file_is_a_422_for_uploads()
    {
        async Task<HttpResponseMessage> UploadAsync(byte[] content)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/checkpoints") { Content = TestCheckpoints.Form(content, "small.safetensors") };
            request.Headers.Add("Idempotency-Key", "upload-1");
            return await Client.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(TestCheckpoints.Safetensors(4))).StatusCode);

        await (await UploadAsync(TestCheckpoints.Safetensors(8))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Single(Factory.StoredFiles(), f => f.StartsWith("checkpoints/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_list_pages_with_page_pageSize_and_totalCount()
    {
        for (var i = 0; i < 3; i++)
        {
            var upload = await Client.PostAsync("/api/checkpoints", TestCheckpoints.Form(TestCheckpoints.Safetensors(4 + i), $"c{i}.safetensors"));
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        var checkpoints = await Client.GetFromJsonAsync<PagedResult<CheckpointDto>>("/api/checkpoints?page=2&pageSize=2", ApiClient.Json);
        var datasets = await Client.GetFromJsonAsync<PagedResult<DatasetDto>>("/api/datasets?page=1&pageSize=2", ApiClient.Json);

        Assert.Equal((2, 2, 3, 1), (checkpoints!.Page, checkpoints.PageSize, checkpoints.TotalCount, checkpoints.Items.Count));
        Assert.Equal("c0.safetensors", checkpoints.Items[0].FileName);
        Assert.Equal((1, 2, 3, 2), (datasets!.Page, datasets.PageSize, datasets.TotalCount, datasets.Items.Count));
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await PostJsonAsync("/api/keys", $$"""{"name":"k{{i}}","scope":"read"}""")).StatusCode);
        }
        var allKeys = (await Client.GetFromJsonAsync<PagedResult<ApiKeyDto>>("/api/keys?pageSize=200", ApiClient.Json))!;
        var secondKey = (await Client.GetFromJsonAsync<PagedResult<ApiKeyDto>>("/api/keys?page=2&pageSize=1", ApiClient.Json))!;
        Assert.True(allKeys.TotalCount >= 3, $"{allKeys.TotalCount} keys");
        Assert.Equal((2, 1, allKeys.TotalCount, allKeys.Items[1].Id), (secondKey.Page, secondKey.PageSize, secondKey.TotalCount, Assert.Single(secondKey.Items).Id));
        var workers = (await Client.GetFromJsonAsync<PagedResult<WorkerDto>>("/api/workers?page=1&pageSize=1", ApiClient.Json))!;
        Assert.Equal((1, 1), (workers.Page, workers.PageSize));
        Assert.Equal(Math.Min(1, workers.TotalCount), workers.Items.Count);
        foreach (var list in new[] { "/api/jobs", "/api/checkpoints", "/api/datasets", "/api/workers", "/api/keys", $"/api/jobs/{Guid.NewGuid()}/artifacts" })
        {
            var problem = await (await Client.GetAsync($"{list}?pageSize=201")).ProblemAsync(HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("pageSize", out _), list);
            // Its offset would overflow the query's int: refused by the paging rule, not by the database.
            var pastTheEnd = await (await Client.GetAsync($"{list}?page={int.MaxValue}&pageSize=200")).ProblemAsync(HttpStatusCode.BadRequest);
            Assert.Contains("page must be at most 10737419", pastTheEnd.GetProperty("errors").GetProperty("page")[0].GetString());
        }
    }

    [Theory]
    [InlineData("text/plain", "/api/jobs/{0}")]
    [InlineData("text/markdown", "/api/jobs/{0}/report")]
    [InlineData("application/octet-stream", "/api/jobs/{0}/artifacts/model-int8.pt")]
    [InlineData("application/octet-stream", "/api/checkpoints/{0}/content")]
    public async Task A_404_is_problem_details_whatever_the_accept_header(string accept, string path)
    {
        var id = Guid.NewGuid();
        var request = new HttpRequestMessage(HttpMethod.Get, string.Format(System.Globalization.CultureInfo.InvariantCulture, path, id));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));

        var problem = await (await Client.SendAsync(request)).ProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.Contains(id.ToString(), problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_400_keeps_its_errors_whatever_the_accept_header()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent("""{"model":"resnet20","dataset":"synthetic","device":"tpu"}""", Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));

        var problem = await (await Client.SendAsync(request)).ProblemAsync(HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("device", out _));
    }

    [Fact]
    public async Task A_body_of_another_media_type_is_a_415_problem()
    {
        await (await Client.PostAsync("/api/jobs", new StringContent(Job, Encoding.UTF8, "text/plain"))).ProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await (await Client.PostAsync("/api/checkpoints", new StringContent(Job, Encoding.UTF8, "application/json"))).ProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    private static System.Text.Json.Nodes.JsonNode JsonOf(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!;

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private Task<HttpResponseMessage> SendJobAsync(string idempotencyKey, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return Client.SendAsync(request);
    }
}

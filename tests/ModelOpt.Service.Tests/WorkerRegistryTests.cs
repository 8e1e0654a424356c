using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Jobs.Workers;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The worker registry and honest routing on PostgreSQL: the API's embedded CPU worker and, where a test needs it, a
/// second worker for the cuda queue in this process, both with the TEST-ONLY stage runner (routing is the point, not models).
/// </summary>
public sealed class WorkerRegistryTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static object CudaJob => new { model = "resnet20", dataset = "synthetic", device = "cuda", training = new { trainSubset = 64 } };

    private TestPostgres db = null!;
    private readonly List<IAsyncDisposable> disposables = [];

    public async Task InitializeAsync() => db = await TestPostgres.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var d in Enumerable.Reverse(disposables))
        {
            await d.DisposeAsync();
        }
        await db.DisposeAsync();
    }

    private ServiceFactory Service(bool embeddedWorker, string? withoutWorker = null)
    {
        var settings = ServiceFactory.Postgres(db, embeddedWorker);
        if (withoutWorker is not null)
        {
            settings["ModelOpt:Jobs:WithoutWorker"] = withoutWorker;
        }
        var factory = new ServiceFactory(settings, new OrchestrationTestStageRunner());
        disposables.Add(factory);
        return factory;
    }

    private static async Task<IReadOnlyList<WorkerDto>> WorkersAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<PagedResult<WorkerDto>>("/api/workers", ApiClient.Json))!.Items;

    [Fact]
    public async Task A_cuda_job_with_only_a_cpu_worker_is_accepted_with_a_warning_and_waits_then_runs_when_a_cuda_worker_joins()
    {
        var factory = Service(embeddedWorker: true);
        var client = factory.CreateClient();

        var response = await client.PostAsJsonAsync("/api/jobs", CudaJob, ApiClient.Json);
        var job = await response.ReadAsync<JobDto>();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal([WorkerRegistry.NoWorkerWarning("cuda", "cuda")], job.Warnings);
        Assert.Equal("Waiting for a cuda worker: none is connected", job.ProgressMessage);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the CPU worker polls its own queue only
        job = await client.GetJobAsync(job.Id);
        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.Single(job.Warnings);
        var page = await client.GetStringAsync($"/jobs/{job.Id}");
        Assert.Contains("No live worker serves device &#x27;cuda&#x27;", page);

        await using (await InProcessWorker.StartAsync(db, factory.DataRoot, "cuda", new OrchestrationTestStageRunner()))
        {
            job = await client.WaitForFinishAsync(job.Id, Timeout);

            Assert.True(job.Status == JobStatus.Succeeded, job.Error);
            Assert.EndsWith(":cuda", job.WorkerName);
            Assert.Empty(job.Warnings);
            var cpu = CpuDescription.OfThisMachine();
            Assert.All(job.Stages, s => Assert.Equal((job.WorkerName, cpu.Model), (s.WorkerName, s.CpuModel)));

            var workers = await WorkersAsync(client);
            Assert.Equal(["cpu", "cuda"], workers.Select(w => w.Device).Order());
            Assert.All(workers, w =>
            {
                Assert.Equal(WorkerState.Live, w.State);
                Assert.Equal((cpu.Model, cpu.Avx2, cpu.Avx512Vnni, cpu.Amx), (w.CpuModel, w.Avx2, w.Avx512Vnni, w.Amx));
                Assert.True(w.Threads >= 1);
                Assert.Matches(@"^\d+\.\d+", w.LibTorchVersion);
                Assert.Matches(@"^\d+\.\d+", w.OnnxRuntimeVersion);
                Assert.Equal("SharedFolder", w.ArtifactAccess);
                Assert.True(w.LastHeartbeatAt >= w.StartedAt);
            });
            Assert.Contains(workers.Single(w => w.Device == "cuda").Name, await client.GetStringAsync("/workers"));
        }

        // A clean shutdown is Stopped, not Lost; the cuda queue has no live worker again.
        var stopped = (await WorkersAsync(client)).Single(w => w.Device == "cuda");
        Assert.Equal(WorkerState.Stopped, stopped.State);
        Assert.NotNull(stopped.StoppedAt);
        Assert.Single((await client.SubmitAsync(CudaJob)).Warnings);
        Assert.Empty((await client.SubmitAsync(new { model = "resnet20", dataset = "synthetic", training = new { trainSubset = 64 } })).Warnings);
    }

    [Fact]
    public async Task With_WithoutWorker_Refuse_a_job_for_a_device_without_a_live_worker_is_409_and_nothing_is_created()
    {
        var factory = Service(embeddedWorker: true, withoutWorker: "Refuse");
        var client = factory.CreateClient();

        var problem = await (await client.PostAsJsonAsync("/api/jobs", CudaJob, ApiClient.Json)).ProblemAsync(HttpStatusCode.Conflict);

        Assert.Contains("No live worker serves device 'cuda'", problem.GetProperty("detail").GetString());
        var jobs = await client.GetFromJsonAsync<PagedResult<JobSummaryDto>>("/api/jobs", ApiClient.Json);
        Assert.Equal(0, jobs!.TotalCount);
        var cpuJob = await client.SubmitAsync(new { model = "resnet20", dataset = "synthetic", training = new { trainSubset = 64 } });
        Assert.Empty(cpuJob.Warnings);
    }

    [Fact]
    public async Task A_killed_worker_process_is_listed_as_lost_after_its_heartbeat_timeout_and_its_queue_counts_as_unserved()
    {
        var factory = Service(embeddedWorker: false);
        var client = factory.CreateClient();
        using var worker = WorkerProcess.Start(db, factory.DataRoot);
        var deadline = DateTime.UtcNow + Timeout;
        IReadOnlyList<WorkerDto> workers;
        // Listed, and Live: a starting process can miss the test's 3 s LostAfter once while its start-up (JIT without
        // tiers, since issue 28) shares CI's 2 cores with the tests running beside it; its next beat makes it Live again.
        while (((workers = await WorkersAsync(client)).Count == 0 || workers.Any(w => w.State != WorkerState.Live)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }
        var live = Assert.Single(workers);
        Assert.Equal(WorkerState.Live, live.State);
        Assert.Contains($":{worker.Id}:", live.Name);
        Assert.Empty((await client.SubmitAsync(new { model = "resnet20", dataset = "synthetic", device = "cpu" })).Warnings);

        worker.Kill();
        var killedAt = DateTime.UtcNow;
        WorkerDto lost;
        while ((lost = (await WorkersAsync(client)).Single()).State == WorkerState.Live && DateTime.UtcNow < killedAt + Timeout)
        {
            await Task.Delay(250);
        }

        Assert.Equal(WorkerState.Lost, lost.State);
        Assert.Null(lost.StoppedAt);
        Assert.Null(lost.CurrentJobId);
        // Lost no sooner than LostAfter (3 s) after its last beat.
        Assert.True(DateTime.UtcNow - lost.LastHeartbeatAt >= TimeSpan.Parse(ServiceFactory.WorkerLostAfter));
        var waiting = await client.SubmitAsync(new { model = "resnet20", dataset = "synthetic", device = "cpu" });
        Assert.Equal([WorkerRegistry.NoWorkerWarning("cpu", "cpu")], waiting.Warnings);
    }

    [Fact]
    public async Task Jobs_measured_on_another_cpu_or_on_several_are_flagged_by_the_compare_api_and_page()
    {
        var factory = Service(embeddedWorker: true);
        var client = factory.CreateClient();
        var request = new { model = "resnet20", dataset = "synthetic", training = new { trainSubset = 64 } };
        var first = await client.WaitForFinishAsync((await client.SubmitAsync(request)).Id, Timeout);
        var second = await client.WaitForFinishAsync((await client.SubmitAsync(request)).Id, Timeout);
        var here = CpuDescription.OfThisMachine().Model;

        var same = await client.GetFromJsonAsync<List<JobComparisonDto>>($"/api/jobs/compare?ids={first.Id},{second.Id}", ApiClient.Json);
        Assert.All(same!, row =>
        {
            Assert.Equal([here], row.CpuModels);
            Assert.False(row.MeasuredOnOtherCpu);
        });

        // As if the second job had run on another machine, and the first had been resumed on one after its calibrate stage.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<ModelOpt.Jobs.Infrastructure.ModelOptDbContext>();
            await context.JobStages.Where(s => s.JobId == second.Id).ExecuteUpdateAsync(u => u.SetProperty(s => s.CpuModel, "Intel(R) Xeon(R) Platinum 8480+"));
        }
        var other = await client.GetFromJsonAsync<List<JobComparisonDto>>($"/api/jobs/compare?ids={first.Id},{second.Id}", ApiClient.Json);
        var page = await client.GetStringAsync($"/compare?ids={first.Id},{second.Id}");

        Assert.Equal([false, true], other!.Select(r => r.MeasuredOnOtherCpu));
        Assert.Equal(["Intel(R) Xeon(R) Platinum 8480+"], other![1].CpuModels);
        Assert.Contains("id=\"different-cpus\"", page);
        // A row's class lists every way it differs from the first (CPU here; images or batch when the delivered forms differ).
        Assert.Matches($"data-job-id=\"{second.Id}\" class=\"[^\"]*\\bdifferent-cpu\\b", page);
        Assert.DoesNotMatch($"data-job-id=\"{first.Id}\" class=\"[^\"]*\\bdifferent-cpu\\b", page);
        await (await client.GetAsync("/api/jobs/compare?ids=nope")).ProblemAsync(HttpStatusCode.BadRequest);
        await (await client.GetAsync($"/api/jobs/compare?ids={first.Id},{Guid.NewGuid()}")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("ModelOpt:Jobs:WithoutWorker", "Maybe", "WithoutWorker")]
    [InlineData("ModelOpt:Workers:LostAfter", "00:00:01", "LostAfter")]
    [InlineData("ModelOpt:Worker:Artifacts", "Api", "ApiUrl")]
    public async Task A_bad_worker_or_routing_setting_stops_the_start_up(string key, string value, string named)
    {
        var settings = ServiceFactory.Postgres(db, embeddedWorker: false);
        settings[key] = value;
        await using var factory = new ServiceFactory(settings);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(named, string.Join("\n", Chain(error).Select(e => e.Message)));
    }

    private static IEnumerable<Exception> Chain(Exception e) =>
        new[] { e }.Concat(e is AggregateException a ? a.InnerExceptions.SelectMany(Chain) : e.InnerException is { } inner ? Chain(inner) : []);

    [Fact]
    public async Task Health_shows_each_check_s_status_to_anyone_and_its_detail_only_with_an_admin_key()
    {
        var factory = Service(embeddedWorker: true);
        var admin = factory.CreateClient();
        var reader = factory.CreateClient(await factory.CreateKeyAsync(ApiKeyScope.Read));

        foreach (var client in new[] { factory.CreateAnonymousClient(), reader })
        {
            var body = await client.GetStringAsync("/health");
            var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks");
            foreach (var check in checks.EnumerateObject())
            {
                Assert.Equal(["status"], check.Value.EnumerateObject().Select(p => p.Name));
            }
            Assert.DoesNotContain("Npgsql", body);
            Assert.DoesNotContain(factory.DataRoot, body);
        }
        var detailed = JsonDocument.Parse(await admin.GetStringAsync("/health")).RootElement.GetProperty("checks");
        Assert.Contains("Npgsql", detailed.GetProperty("database").GetProperty("description").GetString());
        Assert.Equal(["cpu"], detailed.GetProperty("hangfire").GetProperty("data").GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
    }
}

using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Infrastructure;
using Xunit.Abstractions;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The ONNX route through the API against PostgreSQL with the embedded worker: upload (imported and checked at once),
/// a job with no model field, every stage on the real engine, and the int8 download.
/// </summary>
public sealed class OnnxCheckpointApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string MobileNet = "mobilenet_v2_like_opset13_dynamic.onnx";
    private TestPostgres db = null!;
    private ServiceFactory factory = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        db = await TestPostgres.CreateAsync();
        factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: true));
        client = factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    private static byte[] Fixture(string file) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "onnx", file));

    [Fact]
    public async Task Onnx_upload_is_stored_as_its_own_model_and_a_job_needs_no_model_field()
    {
        var content = Fixture(MobileNet);

        var response = await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(content, MobileNet));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var checkpoint = await response.ReadAsync<CheckpointDto>();
        Assert.Equal(CheckpointFormat.Onnx, checkpoint.Format);
        Assert.Equal($"onnx:{MobileNet}", checkpoint.Model);
        Assert.Equal(TestCheckpoints.Sha256(content), checkpoint.Sha256);

        var job = await client.SubmitAsync(new
        {
            dataset = "fashion-mnist",
            checkpointId = checkpoint.Id,
            quantization = new { calibrationImages = 64, calibrationBatchSize = 32 },
            evaluation = new { testSubset = 200, latencyBatchSize = 16, warmupRuns = 1, timedRuns = 2 },
        });
        Assert.Equal($"onnx:{MobileNet}", job.Model);
        Assert.False(job.TrainFirst);

        job = await client.WaitForFinishAsync(job.Id, TimeSpan.FromMinutes(5));
        output.WriteLine($"job {job.Status} in {job.ElapsedMs / 1000:F1} s: " + string.Join(", ", job.Stages.Select(s => $"{s.Stage} {s.DurationMs / 1000:F1} s")));
        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal([PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile], job.Stages.Select(s => s.Stage));
        Assert.Equal(content.Length, job.Stages[0].Results.Single().SizeBytes);
        var int8 = job.Artifacts.Single(a => a.Name == JobWorkspace.Int8TorchScript);
        Assert.Equal(int8.Sha256, TestCheckpoints.Sha256(await client.GetByteArrayAsync(int8.Url)));
        var manifest = await client.GetStringAsync(job.Artifacts.Single(a => a.Name == JobWorkspace.Int8Manifest).Url);
        Assert.Contains($"\"model_name\": \"onnx:{MobileNet}\"", manifest);
    }

    [Fact]
    public async Task Onnx_upload_with_unmapped_ops_is_a_422_listing_op_types_and_nodes_and_leaves_nothing_behind()
    {
        // The GELU fixture imports since ADR-015: its Erf becomes Hardmax, an ONNX op ModelOpt does not map.
        var model = Onnx.ModelProto.Parser.ParseFrom(Fixture("gelu_unsupported_opset13.onnx"));
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "Erf"))
        {
            node.OpType = "Hardmax";
        }
        var problem = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Google.Protobuf.MessageExtensions.ToByteArray(model), "gelu.onnx")))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Equal("The ONNX model uses ops ModelOpt cannot map.", problem.GetProperty("title").GetString());
        var opTypes = problem.GetProperty("unsupportedOpTypes").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("Hardmax", opTypes);
        var nodes = problem.GetProperty("unsupportedNodes").EnumerateArray().ToList();
        Assert.Contains(nodes, n => n.GetProperty("opType").GetString() == "Hardmax" && n.GetProperty("nodeName").GetString()!.Length > 0);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.StartsWith("'gelu.onnx' uses ONNX ops ModelOpt cannot map", detail);
        Assert.DoesNotContain(Path.GetTempPath(), detail);
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("two_images_opset13.onnx", "graph input 'a, b': the graph must have one image input, it has 2.")]
    [InlineData("token_ids_opset13.onnx", "graph input 'tokens': the input must be a float (N, C, H, W) image batch")]
    public async Task Onnx_upload_whose_inputs_are_not_one_image_batch_is_a_422_that_says_so_and_leaves_nothing_behind(string file, string reason)
    {
        var problem = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Fixture(file), file)))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);

        // Every op maps: the title does not blame ops, the detail names the input.
        Assert.Equal("The ONNX model's graph is not one ModelOpt can import.", problem.GetProperty("title").GetString());
        Assert.Empty(problem.GetProperty("unsupportedOpTypes").EnumerateArray());
        Assert.Contains(reason, problem.GetProperty("detail").GetString());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Truncated_onnx_upload_is_a_400_naming_the_file_and_leaves_nothing_behind()
    {
        var content = Fixture(MobileNet);

        var problem = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(content[..(content.Length / 3)], "cut.onnx")))
            .ProblemAsync(HttpStatusCode.BadRequest);

        Assert.StartsWith("'cut.onnx' is not a readable ONNX model", problem.GetProperty("errors").GetProperty("file")[0].GetString());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Onnx_upload_naming_a_zoo_model_is_a_400()
    {
        var problem = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Fixture(MobileNet), MobileNet, "resnet20")))
            .ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("carries its own architecture", problem.GetProperty("errors").GetProperty("model")[0].GetString());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task A_job_whose_dataset_does_not_fit_the_onnx_input_is_a_400()
    {
        var checkpoint = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Fixture(MobileNet), MobileNet))).ReadAsync<CheckpointDto>();

        var response = await client.PostAsJsonAsync("/api/jobs", new { dataset = "synthetic", checkpointId = checkpoint.Id }, ApiClient.Json);
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);

        var reason = problem.GetProperty("errors").GetProperty("dataset")[0].GetString();
        Assert.Contains("The ONNX model takes [1, 32, 32] images", reason);
        // The answer names the setting that fits the images to the model.
        Assert.Contains("To fit them, set preprocessing.color to \"grayscale\".", reason);

        const string fixedSize = "mobilenet_v2_like_opset11_fixed.onnx";
        var fixedCheckpoint = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Fixture(fixedSize), fixedSize))).ReadAsync<CheckpointDto>();
        var resized = await (await client.PostAsJsonAsync("/api/jobs",
                new { dataset = "fashion-mnist", checkpointId = fixedCheckpoint.Id, preprocessing = new { resize = new[] { 28 } } }, ApiClient.Json))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.EndsWith("To fit them, set preprocessing.resize to [32, 32].", resized.GetProperty("errors").GetProperty("dataset")[0].GetString());
    }

    [Fact]
    public async Task A_generic_job_reads_a_labeled_dataset_whose_classes_are_not_the_models()
    {
        var checkpoint = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Fixture(MobileNet), MobileNet))).ReadAsync<CheckpointDto>();
        var dataset = await (await client.PostAsync("/api/datasets", TestDatasets.Form(TestDatasets.Npz(48, 3), "three.npz"))).ReadAsync<DatasetDto>();
        Assert.Equal((true, 3), (dataset.Labeled, dataset.Classes));
        var preprocessing = new { resize = new[] { 32, 32 }, color = "grayscale" };

        // Left to decide, the task is classification (one output of logits, labeled images): 10 classes against 3 labels.
        var classification = await (await client.PostAsJsonAsync("/api/jobs",
                new { dataset = dataset.Id!.Value.ToString(), checkpointId = checkpoint.Id, preprocessing }, ApiClient.Json))
            .ProblemAsync(HttpStatusCode.BadRequest);
        var reason = classification.GetProperty("errors").GetProperty("dataset")[0].GetString();
        Assert.Contains("gives 10 classes", reason);
        Assert.Contains("has 3 classes", reason);
        Assert.Contains("set output.task to \"generic\"", reason);

        // A generic job compares with FP32, not with the labels: the class count is not its business.
        var job = await client.RunSmallJobAsync(checkpoint.Id, dataset.Id!.Value, preprocessing, task: "generic");
        output.WriteLine($"job {job.Status} in {job.ElapsedMs / 1000:F1} s");

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        var int8 = job.Stages.Single(s => s.Stage == PipelineStage.Convert).Results.Single(r => r.Selected);
        Assert.Null(int8.Accuracy);
        Assert.Equal(("logits", 3), Assert.Single(int8.Fidelity!) is var f ? (f.Output, f.Images) : default);
    }

    [Fact]
    public async Task A_graph_with_dynamic_height_and_width_runs_at_the_jobs_preprocessing_size_with_bgr_input()
    {
        const string file = "other_exporter_bgr_dynamic_hw_opset11.onnx";
        var response = await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Fixture(file), file));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var checkpoint = await response.ReadAsync<CheckpointDto>();

        // The graph divides by 1/std itself and reads OpenCV's BGR 0-255 pixels: ToTensor's [0, 1] is scaled back by std.
        var preprocessing = new { resize = new[] { 48, 64 }, channelOrder = "bgr", mean = new[] { 0.0 }, std = new[] { 1 / 255.0 } };
        var unknownOutput = await (await client.PostAsJsonAsync("/api/jobs",
                new { dataset = "synthetic", checkpointId = checkpoint.Id, preprocessing, output = new { name = "scores" } }, ApiClient.Json))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("its outputs are logits", unknownOutput.GetProperty("detail").GetString());
        var grey = await (await client.PostAsJsonAsync("/api/jobs",
                new { dataset = "synthetic", checkpointId = checkpoint.Id, preprocessing = new { resize = new[] { 48, 64 }, color = "grayscale" } }, ApiClient.Json))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("The ONNX model takes [3, 48, 64] images and gives 10 classes", grey.GetProperty("errors").GetProperty("dataset")[0].GetString());

        var job = await client.SubmitAsync(new
        {
            dataset = "synthetic",
            checkpointId = checkpoint.Id,
            preprocessing,
            output = new { name = "logits" },
            quantization = new { calibrationImages = 32, calibrationBatchSize = 32 },
            evaluation = new { testSubset = 64, latencyBatchSize = 8, warmupRuns = 1, timedRuns = 2 },
            compile = new { enabled = false },
        });
        job = await client.WaitForFinishAsync(job.Id, TimeSpan.FromMinutes(5));
        output.WriteLine($"job {job.Status} in {job.ElapsedMs / 1000:F1} s");
        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        var manifest = await client.GetStringAsync(job.Artifacts.Single(a => a.Name == JobWorkspace.Int8Manifest).Url);
        Assert.Contains("\"channel_order\": \"bgr\"", manifest);
        Assert.Contains("[3,48,64]", manifest.Replace(" ", "").Replace("\n", ""));
    }

    [Fact]
    public async Task A_segmentation_model_and_a_two_output_model_on_images_without_labels_run_as_generic_jobs_judged_by_fidelity_to_fp32()
    {
        const string file = "segmentation_net_opset13.onnx";
        var checkpoint = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Fixture(file), file))).ReadAsync<CheckpointDto>();
        var random = new Random(23);
        var images = Enumerable.Range(0, 30).Select(i => ($"street/{i:D2}.png", (string?)Noise(random))).ToArray();
        var dataset = await (await client.PostAsync("/api/datasets", TestDatasets.Form(TestDatasets.Zip(images), "street.zip"))).ReadAsync<DatasetDto>();
        Assert.False(dataset.Labeled);

        var job = await client.RunSmallJobAsync(checkpoint.Id, dataset.Id!.Value, new { resize = new[] { 32, 48 } });
        output.WriteLine($"job {job.Status} in {job.ElapsedMs / 1000:F1} s");

        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        var fp32 = job.Stages.Single(s => s.Stage == PipelineStage.EvaluateFp32).Results.Single();
        var int8 = job.Stages.Single(s => s.Stage == PipelineStage.Convert).Results.Single(r => r.Selected);
        Assert.Null(fp32.Accuracy);
        Assert.Null(int8.Accuracy);
        var fidelity = Assert.Single(int8.Fidelity!);
        // 30 images, the job's default 20 % test split.
        Assert.Equal(("probability_map", 6), (fidelity.Output, fidelity.Images));
        Assert.True(fidelity.SqnrDb > 20, $"SQNR {fidelity.SqnrDb} dB");
        Assert.InRange(fidelity.CosineSimilarity!.Value, 0.99, 1.0);
        Assert.Equal(fidelity, Assert.Single(job.Headline!.DeliveredFidelity!));
        var page = await client.GetStringAsync($"/jobs/{job.Id}");
        Assert.Contains("Fidelity to FP32", page);
        // The per-layer report is there, without the top-1 column a job without labels cannot fill.
        Assert.Contains("<table class=\"table\" id=\"layers\">", page);
        Assert.DoesNotContain("Top-1 gain if FP32", page);

        // A model with two outputs on the same images: each output measured, one fidelity line for each on the DTO and the page.
        const string twoOutputs = "two_output_net_opset13.onnx";
        var twoOutputCheckpoint = await (await client.PostAsync("/api/checkpoints", TestCheckpoints.Form(Fixture(twoOutputs), twoOutputs))).ReadAsync<CheckpointDto>();
        var twoOutputJob = await client.RunSmallJobAsync(twoOutputCheckpoint.Id, dataset.Id!.Value, new { resize = new[] { 32, 32 } });
        output.WriteLine($"two-output job {twoOutputJob.Status} in {twoOutputJob.ElapsedMs / 1000:F1} s");

        Assert.True(twoOutputJob.Status == JobStatus.Succeeded, twoOutputJob.Error);
        var converted = twoOutputJob.Stages.Single(s => s.Stage == PipelineStage.Convert).Results.Single(r => r.Selected);
        Assert.Equal(["logits", "box"], converted.Fidelity!.Select(f => f.Output));
        Assert.All(converted.Fidelity!, f => Assert.Equal(6, f.Images));
        Assert.Equal(["logits", "box"], twoOutputJob.Headline!.DeliveredFidelity!.Select(f => f.Output));
        var twoOutputPage = await client.GetStringAsync($"/jobs/{twoOutputJob.Id}");
        Assert.Contains("<span class=\"headline-output\" data-output=\"logits\">output logits: delivered SQNR", twoOutputPage);
        Assert.Contains("<span class=\"headline-output\" data-output=\"box\">output box: delivered SQNR", twoOutputPage);

        // As a classification job it must name its logits: a 400 that says so, before any job runs.
        var refused = await client.PostAsJsonAsync(
            "/api/jobs", new { dataset = "synthetic", checkpointId = twoOutputCheckpoint.Id, output = new { task = "classification" } }, ApiClient.Json);
        var problem = await refused.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("this model has 2 (logits, box). Name the logits with output.name",
            problem.GetProperty("errors").GetProperty("output.name")[0].GetString());
    }

    private static string Noise(Random random) => $"png:{random.Next(256)},{random.Next(256)},{random.Next(256)}:48x32";

    [Fact]
    public async Task A_job_without_a_model_or_an_onnx_checkpoint_is_a_400()
    {
        var response = await client.PostAsJsonAsync("/api/jobs", new { dataset = "synthetic" }, ApiClient.Json);
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("required", problem.GetProperty("errors").GetProperty("model")[0].GetString());
    }

    private async Task AssertNothingStoredAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        Assert.Equal(0, await context.Checkpoints.CountAsync());
        Assert.DoesNotContain(factory.StoredFiles(), f => !f.StartsWith(".tmp/health-", StringComparison.Ordinal));
    }
}

using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using Xunit.Abstractions;

namespace ModelOpt.Service.Tests;

/// <summary>
/// A zoo checkpoint's generic job (fidelity to FP32, ADR-020) on images whose labels are not the checkpoint's classes, or
/// that have none: the model keeps its own head. Both failed in EvaluateFp32 before ("model expects [0,64]"), the labeled
/// one was refused at submission.
/// </summary>
public sealed class ZooGenericJobTests(ITestOutputHelper output) : PostgresApiTest
{
    protected override bool EmbeddedWorker => true;

    [Fact]
    public async Task A_zoo_checkpoint_runs_as_a_generic_job_on_images_with_other_classes_or_none()
    {
        var pth = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "resnet20_1ch_random.pth"));
        var checkpoint = await (await Client.PostAsync("/api/checkpoints", TestCheckpoints.Form(pth, "resnet20.pth", ModelZoo.ResNet20))).ReadAsync<CheckpointDto>();
        var unlabeled = await (await Client.PostAsync("/api/datasets", TestDatasets.Form(TestDatasets.UnlabeledNpz(48, 8, seed: 5), "street.npz"))).ReadAsync<DatasetDto>();
        var threeClasses = await (await Client.PostAsync("/api/datasets", TestDatasets.Form(TestDatasets.Npz(48, 3), "three.npz"))).ReadAsync<DatasetDto>();
        Assert.Equal((false, true, 3), (unlabeled.Labeled, threeClasses.Labeled, threeClasses.Classes));
        var grey = new { resize = new[] { 32, 32 }, color = "grayscale" };

        // On labeled images a job left to decide is a classification one: 3 labels against 10 classes is a 400 naming the way out.
        var refused = await (await Client.PostAsJsonAsync("/api/jobs",
                new { model = ModelZoo.ResNet20, dataset = threeClasses.Id!.Value.ToString(), checkpointId = checkpoint.Id, preprocessing = grey }, ApiClient.Json))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("set output.task to \"generic\"", refused.GetProperty("errors").GetProperty("dataset")[0].GetString());

        foreach (var (dataset, task, preprocessing) in new[] { (unlabeled, (string?)null, (object)new { }), (threeClasses, "generic", grey) })
        {
            var job = await Client.RunSmallJobAsync(checkpoint.Id, dataset.Id!.Value, preprocessing, task, ModelZoo.ResNet20);
            output.WriteLine($"{dataset.Name}: {job.Status} in {job.ElapsedMs / 1000:F1} s {job.Error}");

            Assert.True(job.Status == JobStatus.Succeeded, $"{dataset.Name}: {job.Error}");
            var int8 = job.Stages.Single(s => s.Stage == PipelineStage.Convert).Results.Single(r => r.Selected);
            Assert.Null(int8.Accuracy);
            // The checkpoint's 10 logits, compared with FP32's on the set's test images.
            var fidelity = Assert.Single(int8.Fidelity!);
            Assert.Equal(dataset.TestImages, fidelity.Images);
            Assert.True(fidelity.SqnrDb > 10, $"{dataset.Name}: SQNR {fidelity.SqnrDb} dB");
            var manifest = await Client.GetStringAsync(job.Artifacts.Single(a => a.Name == JobWorkspace.Int8Manifest).Url);
            Assert.Contains("\"num_classes\": 10,", manifest);
        }
    }
}

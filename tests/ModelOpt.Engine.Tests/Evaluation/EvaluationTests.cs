using System.IO.Compression;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Tests.Evaluation;

public class EvaluationTests
{
    [Fact]
    public void Accuracy_of_a_constant_forward_is_the_share_of_its_class()
    {
        using var splits = SyntheticDataset.Create(testCount: 300);
        var classZero = splits.Test.Labels.data<long>().ToArray()[..250].Count(l => l == 0);
        Tensor AlwaysClassZero(Tensor images) => nn.functional.one_hot(zeros(images.shape[0], dtype: ScalarType.Int64), 10).to_type(ScalarType.Float32);

        var result = AccuracyEvaluator.Measure(AlwaysClassZero, splits.Test, subset: 250, batchSize: 64);

        Assert.Equal(250, result.ImagesScored);
        Assert.Equal(classZero, result.Correct);
    }

    [Fact]
    public void Accuracy_scores_every_test_image_when_no_subset_is_given()
    {
        using var splits = SyntheticDataset.Create(channels: 1, testCount: 130);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var result = AccuracyEvaluator.Measure(model, splits.Test);
        Assert.Equal(130, result.ImagesScored);
        Assert.InRange(result.Accuracy, 0, 1);
    }

    [Fact]
    public void Latency_times_fifty_runs_after_warm_up()
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var calls = 0;
        Tensor CountedForward(Tensor input)
        {
            calls++;
            return model.call(input);
        }
        model.eval();

        var result = LatencyEvaluator.Measure(CountedForward, 1, new EvaluationOptions(LatencyBatchSize: 2));

        Assert.Equal(55, calls);
        Assert.Equal(50, result.TimingsMs.Count);
        Assert.True(result.MeanMs > 0);
        Assert.True(result.StdMs > 0);
        Assert.Equal(2 * 1000 / result.MeanMs, result.ImagesPerSecond, 6);
    }

    [Fact]
    public void Latency_std_is_the_population_std()
    {
        var result = new LatencyResult(128, [1.0, 3.0]);
        Assert.Equal(2.0, result.MeanMs);
        Assert.Equal(1.0, result.StdMs);
    }

    [Theory]
    [InlineData(ModelZoo.ResNet20, 1, "resnet20_1ch_random", 1_136_473)]
    [InlineData(ModelZoo.ResNet18Cifar, 3, "resnet18_cifar_3ch_random", 44_774_789)]
    public void State_dict_size_is_within_2_percent_of_pytorch(string name, long channels, string archiveName, long pytorchBytes)
    {
        using var model = ModelZoo.Create(name, channels, 10);
        var bytes = ModelSize.StateDictBytes(model, archiveName);
        Assert.InRange(bytes, pytorchBytes * 0.98, pytorchBytes * 1.02);
    }

    [Fact]
    public void Archive_layout_reproduces_a_pytorch_file_to_the_byte()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "resnet20_1ch_random.pth");
        using var archive = ZipFile.OpenRead(path);
        var records = archive.Entries.Select(e => (e.FullName, e.Length));
        Assert.Equal(new FileInfo(path).Length, PyTorchArchiveLayout.ArchiveBytes(records));
    }
}

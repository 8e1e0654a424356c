using ModelOpt.Engine.Models;
using TorchSharp.PyBridge;

namespace ModelOpt.Service.Tests;

/// <summary>The torchvision architectures through the API: listed by GET /api/models, their state_dicts accepted at upload.</summary>
public sealed class TorchVisionCheckpointApiTests : PostgresApiTest
{
    [Fact]
    public async Task Models_lists_torchvision_resnets_and_mobilenet_v2_with_both_stems()
    {
        var models = await Client.GetFromJsonAsync<List<ModelDto>>("/api/models", ApiClient.Json);

        var names = models!.Select(m => m.Name).ToList();
        Assert.Subset(names.ToHashSet(), new HashSet<string>
        {
            "resnet18", "resnet34", "resnet50", "mobilenet_v2", "resnet18-cifar", "resnet34-cifar", "resnet50-cifar", "mobilenet_v2-cifar",
        });
        Assert.Contains(models!, m => m.Name == "mobilenet_v2" && m.ParameterCount is > 2_000_000 and < 2_500_000); // 3 channels, 10 classes
    }

    [Theory]
    [InlineData(ModelZoo.MobileNetV2Cifar, 1, 10)]
    [InlineData(ModelZoo.ResNet18, 3, 7)]
    public async Task A_torchvision_state_dict_is_accepted_with_channels_and_classes_from_its_shapes(string model, long channels, long classes)
    {
        var response = await Client.PostAsync("/api/checkpoints", TestCheckpoints.Form(StateDict(model, channels, classes), $"{model}.pth", model));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        Assert.Equal(model, (await response.ReadAsync<CheckpointDto>()).Model);
    }

    [Fact]
    public async Task A_mobilenet_state_dict_named_as_a_resnet_is_a_422()
    {
        var response = await Client.PostAsync("/api/checkpoints", TestCheckpoints.Form(StateDict(ModelZoo.MobileNetV2, 3, 10), "m.pth", ModelZoo.ResNet18));

        await response.ProblemAsync(HttpStatusCode.UnprocessableEntity);
    }

    /// <summary>A freshly initialised zoo model saved as torch.save writes a state_dict.</summary>
    private static byte[] StateDict(string model, long channels, long classes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.pth");
        try
        {
            using (var module = ModelZoo.Create(model, channels, classes))
            {
                module.save_py(path);
            }
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

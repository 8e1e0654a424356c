using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Infrastructure;

/// <summary>The notebook's job as the example of <see cref="CreateJobRequest"/>: ResNet18-CIFAR on Fashion-MNIST, histogram observer, 256 calibration images.</summary>
public sealed class CreateJobRequestExampleFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (context.Type != typeof(CreateJobRequest) || schema is not OpenApiSchema concrete)
        {
            return;
        }
        concrete.Examples = [new JsonObject
        {
            ["model"] = "resnet18-cifar",
            ["dataset"] = "fashion-mnist",
            ["device"] = "cpu",
            ["training"] = new JsonObject { ["epochs"] = 1, ["learningRate"] = 0.01, ["batchSize"] = 128, ["trainSubset"] = 6000, ["seed"] = 0 },
            ["quantization"] = new JsonObject
            {
                ["activationObserver"] = "histogram", ["perChannelWeights"] = true, ["symmetricActivations"] = false,
                ["calibrationImages"] = 256, ["calibrationBatchSize"] = 128,
            },
            ["evaluation"] = new JsonObject { ["latencyBatchSize"] = 128, ["warmupRuns"] = 5, ["timedRuns"] = 50 },
            ["compile"] = new JsonObject { ["enabled"] = true },
        }];
    }
}

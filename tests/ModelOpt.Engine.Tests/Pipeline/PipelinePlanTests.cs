using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Tests.Pipeline;

/// <summary>
/// The one plan of a job's stages: the worker runs it, and the pipeline frees a job's models and data after its last
/// stage, so a job without Compile must end at Convert here too.
/// </summary>
public class PipelinePlanTests
{
    private static OptimizationRequest Job(string? checkpoint, bool compile) => new(
        ModelZoo.ResNet20, DatasetCatalog.FashionMnistName, DataPath: null, CheckpointPath: checkpoint,
        new TrainingOptions(), new QuantizationOptions(), new EvaluationOptions(), Compile: compile);

    [Fact]
    public void A_job_from_a_checkpoint_with_compile_disabled_ends_at_convert()
    {
        Assert.Equal([PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert],
            OptimizationPipeline.StagesFor(Job("model.pth", compile: false)));
    }

    [Fact]
    public void A_job_that_trains_and_compiles_runs_every_stage()
    {
        Assert.Equal(Enum.GetValues<PipelineStage>(), OptimizationPipeline.StagesFor(Job(null, compile: true)));
    }
}

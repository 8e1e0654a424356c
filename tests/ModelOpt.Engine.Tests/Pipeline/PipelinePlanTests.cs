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
    private static OptimizationRequest Job(string? checkpoint, bool compile, bool qat = false) => new(
        ModelZoo.ResNet20, DatasetCatalog.FashionMnistName, DataPath: null, CheckpointPath: checkpoint,
        new TrainingOptions(), new QuantizationOptions(), new EvaluationOptions(), Compile: new CompileOptions { Enabled = compile }, Qat: new ModelOpt.Engine.Quantization.Qat.QatOptions { Enabled = qat });

    [Fact]
    public void A_job_from_a_checkpoint_with_compile_disabled_ends_at_convert()
    {
        Assert.Equal([PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert],
            OptimizationPipeline.StagesFor(Job("model.pth", compile: false)));
    }

    [Fact]
    public void A_job_that_trains_and_compiles_runs_every_stage_but_qat_which_it_did_not_ask_for()
    {
        Assert.Equal(Enum.GetValues<PipelineStage>().Where(s => s != PipelineStage.Qat), OptimizationPipeline.StagesFor(Job(null, compile: true)));
    }

    [Fact]
    public void A_job_that_asks_for_qat_runs_it_between_calibrate_and_convert()
    {
        Assert.Equal(Enum.GetValues<PipelineStage>(), OptimizationPipeline.StagesFor(Job(null, compile: true, qat: true)));
    }
}

using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>The FP32 model's size, accuracy and latency, as the notebook measures the full model.</summary>
internal static class EvaluateFp32Stage
{
    public const string Backend = "torchsharp-fp32-eager";

    public static StageResult Run(StageContext context)
    {
        using var model = LoadFp32(context);
        model.eval();
        var metrics = ModelMeasurement.Measure(context, Backend, x => model.call(x), ModelSize.StateDictBytes(model));
        return new StageResult([metrics], []);
    }

    public static Models.CifarResNet LoadFp32(StageContext context)
    {
        var model = context.CreateModel();
        try
        {
            CheckpointLoader.LoadInto(model, context.Workspace.Fp32Checkpoint(context.Request));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

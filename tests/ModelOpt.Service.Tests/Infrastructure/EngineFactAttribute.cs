using ModelOpt.Jobs.Execution;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>
/// A test over the real engine pipeline. It runs once the worker is built with the engine's OptimizationPipeline wired
/// (ModelOpt.Jobs compiled with ENGINE_PIPELINE, which adds <c>EnginePipelineStageRunner</c>); until then it is skipped
/// with that reason. Under CI=true a missing pipeline is not a reason to skip: the test fails.
/// </summary>
public sealed class EngineFactAttribute : FactAttribute
{
    public static bool PipelineWired => typeof(IStageRunner).Assembly.GetType("ModelOpt.Jobs.Execution.EnginePipelineStageRunner") is not null;

    public EngineFactAttribute()
    {
        if (!PipelineWired && !IsCi)
        {
            Skip = "The engine pipeline is not wired yet (build ModelOpt.Jobs with ENGINE_PIPELINE).";
        }
    }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}

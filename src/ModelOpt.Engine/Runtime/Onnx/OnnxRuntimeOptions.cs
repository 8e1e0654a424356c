using Microsoft.ML.OnnxRuntime;

namespace ModelOpt.Engine.Runtime.Onnx;

/// <summary>
/// How an ONNX model is loaded. <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/> fuses QDQ int8 graphs into
/// QLinearConv / QLinearAdd / QGemm and lays them out for this CPU; <see cref="OptimizedModelPath"/>, when set, saves the
/// optimized graph (CPU-specific at ORT_ENABLE_ALL; ORT_ENABLE_EXTENDED gives a portable file).
/// <see cref="IntraOpThreads"/> 0 means one thread per logical core. <see cref="AllowSpinning"/> false stops the intra-op
/// threads from spinning after a run (ORT's <c>session.intra_op.allow_spinning</c>), which otherwise keeps them on the
/// cores that the next model run in the same process needs.
/// </summary>
public sealed record OnnxRuntimeOptions(
    GraphOptimizationLevel OptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    int IntraOpThreads = 0,
    string? OptimizedModelPath = null,
    bool AllowSpinning = true);

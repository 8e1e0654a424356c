using Microsoft.ML.OnnxRuntime;

namespace ModelOpt.Engine.Runtime.Onnx;

/// <summary>
/// How an ONNX model is loaded. <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/> fuses QDQ int8 graphs into
/// QLinearConv / QLinearAdd / QGemm and lays them out for this CPU; <see cref="OptimizedModelPath"/>, when set, saves the
/// optimized graph (CPU-specific at ORT_ENABLE_ALL; ORT_ENABLE_EXTENDED gives a portable file).
/// <see cref="IntraOpThreads"/> 0 means one thread per logical core.
/// </summary>
public sealed record OnnxRuntimeOptions(
    GraphOptimizationLevel OptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    int IntraOpThreads = 0,
    string? OptimizedModelPath = null);

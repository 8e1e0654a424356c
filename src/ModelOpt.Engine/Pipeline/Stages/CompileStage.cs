using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Quantization.Fusion;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.Onnx;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// compile: lowers the converted model to every deployable form this CPU worker can run, measures each the
/// notebook's way in this one process, and keeps the fastest whose accuracy stays within
/// <see cref="CandidateSelection.MaxAccuracyDifferencePoints"/> of the converted model's (the notebook's
/// <c>torch.compile</c> lost 1.2 points). A CUDA worker would add TorchSharp FP16 and ONNX Runtime's CUDA provider
/// for the QDQ model; those are not built here (see README, "GPU workers").
/// </summary>
internal static class CompileStage
{
    public const string OnnxRuntimeQdqBackend = "onnxruntime-int8-qdq";
    public const string OnnxRuntimeFp32Backend = "onnxruntime-fp32";

    public static StageResult Run(StageContext context)
    {
        var workspace = context.Workspace;
        var manifest = Int8Manifest.FromJson(File.ReadAllText(workspace.PathOf(JobWorkspace.Int8Manifest)));
        if (manifest.Metrics?.TryGetValue(ConvertStage.AccuracyMetric, out var referenceAccuracy) != true)
        {
            throw new InvalidOperationException("The int8 manifest has no accuracy; the convert stage did not complete.");
        }
        var candidates = new List<CompileCandidate>();

        var engines = TorchScriptEngines().ToList();
        var total = engines.Count + 2;
        foreach (var engine in engines)
        {
            using var model = TorchScriptInt8Model.Load(workspace.PathOf(JobWorkspace.Int8TorchScript), engine);
            var metrics = ModelMeasurement.Measure(
                context, ConvertStage.Backend(engine), model.Run, model.SerializedSizeBytes, (double)candidates.Count / total, (candidates.Count + 1.0) / total);
            candidates.Add(new CompileCandidate(metrics with { Note = $"load with quantized engine {engine}" }, workspace.Artifact(JobWorkspace.Int8TorchScript)));
        }
        QuantizedEngine.Current = QuantizedEngine.Default;

        var (quantized, _) = Int8SafeTensorsCheckpoint.Load(workspace.PathOf(JobWorkspace.Int8SafeTensors), context.OnnxModelPath);
        using (quantized)
        {
            workspace.Write(JobWorkspace.Int8Onnx, path => OnnxExporter.Save(OnnxExporter.ExportQdq(quantized), path));
        }
        candidates.Add(MeasureOnnx(context, OnnxRuntimeQdqBackend, JobWorkspace.Int8Onnx, candidates.Count, total));

        using (var fp32 = context.OpenFp32())
        using (var folded = GraphFusion.FoldBatchNorm(fp32.Graph))
        using (var fused = GraphFusion.FuseReLU(folded))
        {
            workspace.Write(JobWorkspace.Fp32Onnx, path => OnnxExporter.Save(OnnxExporter.ExportFp32(fused), path));
        }
        candidates.Add(MeasureOnnx(context, OnnxRuntimeFp32Backend, JobWorkspace.Fp32Onnx, candidates.Count, total));

        var selected = CandidateSelection.Select(candidates, referenceAccuracy);
        return new StageResult(
            [.. selected.Select(c => c.Metrics)],
            [.. selected.Select(c => c.Artifact).DistinctBy(a => a.Name)]);
    }

    // X86 is LibTorch's default; oneDNN was as fast on this CPU in probes, so both are measured rather than assumed.
    private static IEnumerable<QEngine> TorchScriptEngines() =>
        new[] { QEngine.X86, QEngine.OneDnn }.Where(QuantizedEngine.Supported.Contains);

    private static CompileCandidate MeasureOnnx(StageContext context, string backend, string file, int index, int total)
    {
        using var model = OnnxRuntimeModel.Load(context.Workspace.PathOf(file));
        var metrics = ModelMeasurement.Measure(context, backend, model.Run, model.SizeBytes, (double)index / total, (index + 1.0) / total);
        return new CompileCandidate(metrics, context.Workspace.Artifact(file));
    }
}

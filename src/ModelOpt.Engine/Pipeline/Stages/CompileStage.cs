using System.Runtime.InteropServices;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Fusion;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.Onnx;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// compile: lowers the converted model to the other deployable forms this CPU worker can run and keeps one only if it is
/// faster than the converted form beyond the measured spread, with accuracy within
/// <see cref="CandidateSelection.MaxAccuracyLossPoints"/> (the notebook's <c>torch.compile</c> lost 1.2 points);
/// <see cref="CompileScreening"/> decides what is scored. ONNX Runtime's FP32 form (BN folded, ReLU fused) is timed
/// alongside as the optimized FP32 baseline and is never delivered. A CUDA worker would add TorchSharp FP16 and ONNX Runtime's CUDA
/// provider for the QDQ model; those are not built here (see README, "GPU workers").
/// </summary>
internal static class CompileStage
{
    public const string OnnxRuntimeQdqBackend = "onnxruntime-int8-qdq";
    public const string OnnxRuntimeFp32Backend = "onnxruntime-fp32";
    public const string OneDnnFusedBackend = "libtorch-int8-onednn-fused";

    public static StageProducts Run(StageContext context)
    {
        var workspace = context.Workspace;
        var manifest = Int8Manifest.FromJson(File.ReadAllText(workspace.PathOf(JobWorkspace.Int8Manifest)));
        var convertedScore = ConvertedScore(context, manifest);
        var engine = Enum.Parse<QEngine>(manifest.QuantizedEngine);

        var forms = new List<CompileForm>();
        try
        {
            context.Report(0, "building the candidate forms");
            var torchScriptBytes = File.ReadAllBytes(workspace.PathOf(JobWorkspace.Int8TorchScript));
            var torchScript = workspace.Artifact(JobWorkspace.Int8TorchScript);
            foreach (var candidateEngine in TorchScriptEngines(engine))
            {
                var model = TorchScriptInt8Model.Load(torchScriptBytes, candidateEngine);
                forms.Add(new CompileForm(
                    ConvertStage.Backend(candidateEngine), x => RunUnder(candidateEngine, model, x), torchScriptBytes.LongLength, torchScript,
                    deliverable: true, $"quantized engine {candidateEngine.ToString().ToLowerInvariant()}", model));
            }
            QuantizedEngine.Current = engine;

            var (quantized, _) = context.OpenInt8();
            workspace.Write(JobWorkspace.Int8Onnx, path => OnnxExporter.Save(OnnxExporter.ExportQdq(quantized), path));
            forms.Add(OnnxForm(context, OnnxRuntimeQdqBackend, JobWorkspace.Int8Onnx, deliverable: true));
            if (OneDnnFusedForm(context, quantized) is { } fused)
            {
                forms.Add(fused);
            }

            // The optimized FP32 baseline. BN folding in TorchSharp itself (through the graph interpreter) was no faster than
            // the eager model in probes (docs/BENCHMARKS.md), so ONNX Runtime's is the one timed.
            using (var folded = GraphFusion.FuseReLU(GraphFusion.FoldBatchNorm(context.OpenFp32().Graph)))
            {
                workspace.Write(JobWorkspace.Fp32Onnx, path => OnnxExporter.Save(OnnxExporter.ExportFp32(folded), path));
            }
            forms.Add(OnnxForm(context, OnnxRuntimeFp32Backend, JobWorkspace.Fp32Onnx, deliverable: false));

            var test = context.Data.Test;
            var evaluation = context.Request.Evaluation;
            Func<Func<Tensor, Tensor>, FormScore> score = context.IsGeneric
                ? forward => FormScore.Of(Fp32Outputs.Measure(context, forward))
                : forward => FormScore.Of(AccuracyEvaluator.Measure(forward, test, evaluation.TestSubset, cancellationToken: context.CancellationToken));
            var selected = CompileScreening.Run(
                forms[0], convertedScore, forms[1..], test, context.InputShape, evaluation, context.Request.Device,
                (fraction, message) => context.Report(0.1 + 0.9 * fraction, message), score, context.CancellationToken,
                context.Request.CompileSettings.ScoreEveryForm);
            QuantizedEngine.Current = engine;
            return new StageProducts(
                [.. selected.Select(c => c.Metrics)],
                [.. selected.Select(c => c.Artifact).DistinctBy(a => a.Name)]);
        }
        finally
        {
            forms.ForEach(f => f.Dispose());
        }
    }

    // What the convert stage measured on the converted form: the manifest's top-1, or a generic job's fidelity file.
    private static FormScore ConvertedScore(StageContext context, Int8Manifest manifest)
    {
        if (context.IsGeneric)
        {
            return context.Workspace.Has(JobWorkspace.Int8Fidelity)
                ? FormScore.Of(FidelityJson.Deserialize(File.ReadAllText(context.Workspace.PathOf(JobWorkspace.Int8Fidelity))))
                : throw new InvalidOperationException("The converted form's fidelity is missing; the convert stage did not complete.");
        }
        if (manifest.Metrics?.TryGetValue(ConvertStage.AccuracyMetric, out var accuracy) != true
            || !manifest.Metrics.TryGetValue(ConvertStage.ImagesScoredMetric, out var imagesScored))
        {
            throw new InvalidOperationException("The int8 manifest has no accuracy; the convert stage did not complete.");
        }
        return FormScore.Of(new AccuracyResult((int)Math.Round(accuracy * imagesScored), (int)imagesScored));
    }

    // The converted model's engine first: it is the form every candidate is compared with.
    private static IEnumerable<QEngine> TorchScriptEngines(QEngine converted) =>
        new[] { converted, QEngine.X86, QEngine.OneDnn }.Distinct().Where(QuantizedEngine.Supported.Contains);

    // The quantized engine is process-wide; each int8 form runs under the one its weights were packed for.
    private static Tensor RunUnder(QEngine engine, TorchScriptInt8Model model, Tensor input)
    {
        QuantizedEngine.Current = engine;
        return model.Run(input);
    }

    /// <summary>
    /// The fused oneDNN form (issue 14), when this graph has one and LibTorch has oneDNN (its <c>onednn::</c> operators
    /// exist exactly when the OneDnn quantized engine does). Its logits differ from the converted form's, so the
    /// screening scores it on the test set if it is fast enough to win. A graph the kernel rejects at run time (one
    /// batch is tried) has no fused form rather than a failed stage.
    /// </summary>
    private static CompileForm? OneDnnFusedForm(StageContext context, QuantizedGraph quantized)
    {
        if (!QuantizedEngine.Supported.Contains(QEngine.OneDnn) || TorchScriptFusedInt8Generator.Unsupported(quantized) is not null)
        {
            return null;
        }
        var model = TorchScriptFusedInt8Model.Build(quantized);
        try
        {
            using (var input = zeros([1, .. context.InputShape]))
            using (model.Run(input))
            {
            }
            context.Workspace.Write(JobWorkspace.Int8OneDnnFusedTorchScript, model.Save);
            return new CompileForm(
                OneDnnFusedBackend, model.Run, model.SerializedSizeBytes, context.Workspace.Artifact(JobWorkspace.Int8OneDnnFusedTorchScript),
                deliverable: true, "oneDNN qconv2d_pointwise, residual adds fused into their convs", model);
        }
        catch (ExternalException)
        {
            model.Dispose();
            return null;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    // ONNX Runtime gets the worker's LibTorch thread count, so that every form is timed on as many threads. Its threads
    // do not spin: spinning on after a run, they took the cores from the LibTorch form timed next (ADR-011: resnet20 at 2
    // threads, the converted form's quartiles 8.85-16.83 ms beside spinning sessions, 8.77-8.99 ms beside quiet ones).
    private static CompileForm OnnxForm(StageContext context, string backend, string file, bool deliverable)
    {
        var options = new OnnxRuntimeOptions(IntraOpThreads: get_num_threads(), AllowSpinning: false);
        var model = OnnxRuntimeModel.Load(context.Workspace.PathOf(file), options);
        return new CompileForm(
            backend, model.Run, model.SizeBytes, context.Workspace.Artifact(file), deliverable,
            $"ONNX Runtime {options.OptimizationLevel}, {options.IntraOpThreads} threads, not spinning", model);
    }
}

using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ModelOpt.Engine.Runtime.Onnx;

/// <summary>An ONNX model loaded into an ONNX Runtime CPU session with one float input and one or more float outputs.</summary>
public sealed class OnnxRuntimeModel : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly string[] inputNames;
    private readonly string[] outputNames;

    private OnnxRuntimeModel(string path, InferenceSession session)
    {
        Path = path;
        this.session = session;
        inputNames = [session.InputMetadata.Keys.Single()];
        outputNames = [.. session.OutputNames];
    }

    public string Path { get; }

    /// <summary>The graph's outputs, in the file's order.</summary>
    public IReadOnlyList<string> OutputNames => outputNames;

    /// <summary>The size of the .onnx file, the artifact size a deployment ships.</summary>
    public long SizeBytes => new FileInfo(Path).Length;

    public static OnnxRuntimeModel Load(string path, OnnxRuntimeOptions? options = null)
    {
        options ??= new OnnxRuntimeOptions();
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.OptimizationLevel,
            IntraOpNumThreads = options.IntraOpThreads > 0 ? options.IntraOpThreads : Environment.ProcessorCount,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (!options.AllowSpinning)
        {
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }
        if (options.OptimizedModelPath is not null)
        {
            sessionOptions.OptimizedModelFilePath = options.OptimizedModelPath;
        }
        return new OnnxRuntimeModel(path, new InferenceSession(path, sessionOptions));
    }

    /// <summary>
    /// Runs a float batch. The input is handed to ORT in place (no copy when already contiguous float32); the output
    /// is copied once into a new TorchSharp tensor the caller owns. Several outputs come packed
    /// (<see cref="Graph.OutputLayout.Packed"/>); <see cref="RunAll"/> gives them one by one.
    /// </summary>
    public Tensor Run(Tensor input)
    {
        if (outputNames.Length == 1)
        {
            return RunAll(input)[0];
        }
        using var scope = NewDisposeScope();
        return Graph.OutputLayout.Packed(RunAll(input)).MoveToOuterDisposeScope();
    }

    /// <summary>Every output, in <see cref="OutputNames"/> order, each copied once into a tensor the caller owns.</summary>
    public unsafe Tensor[] RunAll(Tensor input)
    {
        using var scope = NewDisposeScope();
        var contiguous = input.to(float32).contiguous();
        var bytes = contiguous.bytes;
        fixed (byte* data = bytes)
        {
            using var ortInput = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, contiguous.shape, (IntPtr)data, bytes.Length);
            using var outputs = session.Run(runOptions, inputNames, [ortInput], outputNames);
            var results = new Tensor[outputs.Count];
            for (var i = 0; i < outputs.Count; i++)
            {
                var result = empty(outputs[i].GetTensorTypeAndShape().Shape, float32);
                outputs[i].GetTensorDataAsSpan<float>().CopyTo(MemoryMarshal.Cast<byte, float>(result.bytes));
                results[i] = result.MoveToOuterDisposeScope();
            }
            return results;
        }
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}

using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ModelOpt.Engine.Runtime.Onnx;

/// <summary>An ONNX model loaded into an ONNX Runtime CPU session with one float input and one float output.</summary>
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
        outputNames = [session.OutputMetadata.Keys.Single()];
    }

    public string Path { get; }

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
    /// is copied once into a new TorchSharp tensor the caller owns.
    /// </summary>
    public unsafe Tensor Run(Tensor input)
    {
        using var scope = NewDisposeScope();
        var contiguous = input.to(float32).contiguous();
        var bytes = contiguous.bytes;
        fixed (byte* data = bytes)
        {
            using var ortInput = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, contiguous.shape, (IntPtr)data, bytes.Length);
            using var outputs = session.Run(runOptions, inputNames, [ortInput], outputNames);
            var output = outputs[0];
            var result = empty(output.GetTensorTypeAndShape().Shape, float32);
            output.GetTensorDataAsSpan<float>().CopyTo(MemoryMarshal.Cast<byte, float>(result.bytes));
            return result.MoveToOuterDisposeScope();
        }
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}

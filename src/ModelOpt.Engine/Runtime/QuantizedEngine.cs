using System.Runtime.InteropServices;
using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Runtime;

/// <summary>
/// LibTorch's process-wide quantized engine (<c>torch.backends.quantized.engine</c>), which TorchSharp does not
/// expose: read and set through <c>at::globalContext()</c> in <c>libtorch_cpu</c>. The engine in force when conv and
/// linear weights are prepacked (at build and at load) decides which kernels an int8 model runs.
/// </summary>
public static partial class QuantizedEngine
{
    private const string LibTorchCpu = "libtorch_cpu";

    /// <summary>PyTorch 2.x's default on x86 CPUs: fbgemm for linear, oneDNN for conv, chosen per op.</summary>
    public const QEngine Default = QEngine.X86;

    private static readonly Lock Gate = new();

    /// <summary>
    /// The engine an int8 graph is built for: <see cref="Default"/>, but oneDNN once the graph has a grouped (depthwise)
    /// conv. X86 hands wide depthwise convs (above 100 groups) to fbgemm, which needs activations of reduced range
    /// (PyTorch's fbgemm qconfigs use reduce_range for it); with the x86 inductor recipe's full-range uint8 activations
    /// its results leave the fake-quant reference by about a hundred output steps, oneDNN's do not.
    /// </summary>
    public static QEngine For(ModelGraph graph) =>
        graph.Nodes.OfType<Conv2dNode>().Any(c => c.Groups > 1) && Supported.Contains(QEngine.OneDnn) ? QEngine.OneDnn : Default;

    /// <summary>The engines this LibTorch build was compiled with.</summary>
    public static IReadOnlyList<QEngine> Supported
    {
        get
        {
            EnsureLoaded();
            unsafe
            {
                // const std::vector<c10::QEngine>&: begin and end pointers to one byte per engine.
                var vector = (byte**)supportedQEngines(globalContext());
                return new ReadOnlySpan<byte>(vector[0], (int)(vector[1] - vector[0])).ToArray().Select(b => (QEngine)b).ToList();
            }
        }
    }

    public static QEngine Current
    {
        get
        {
            EnsureLoaded();
            return (QEngine)qEngine(globalContext());
        }
        set
        {
            // setQEngine throws a C++ exception for an engine that is not compiled in, which P/Invoke cannot catch.
            if (!Supported.Contains(value))
            {
                throw new ArgumentException(
                    $"Quantized engine {value} is not supported by this LibTorch; supported: {string.Join(", ", Supported)}.", nameof(value));
            }
            lock (Gate)
            {
                setQEngine(globalContext(), (byte)value);
            }
        }
    }

    // TorchSharp loads libtorch_cpu on first use; touching it first makes the P/Invokes below bind to that copy.
    private static void EnsureLoaded() => InitializeDeviceType(DeviceType.CPU);

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr globalContext();

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZNK2at7Context7qEngineEv")]
    private static partial byte qEngine(IntPtr context);

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at7Context10setQEngineEN3c107QEngineE")]
    private static partial void setQEngine(IntPtr context, byte engine);

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at7Context17supportedQEnginesEv")]
    private static partial IntPtr supportedQEngines(IntPtr context);
}

using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// An int8 model running on LibTorch's quantized CPU kernels through generated TorchScript: float input, float
/// output. Its saved form is a self-contained TorchScript archive (packed weights included) that
/// <c>torch.jit.load</c> in LibTorch or PyTorch opens without ModelOpt.
/// </summary>
/// <remarks>
/// Weights are prepacked for the quantized engine set when the model is built or loaded; the engine is a process-wide
/// LibTorch setting, so models built under different engines should not be created concurrently.
/// </remarks>
public sealed class TorchScriptInt8Model : IDisposable
{
    private const string ArchiveRoot = "modelopt_int8";

    private readonly jit.ScriptModule module;
    private byte[]? serialized;

    private TorchScriptInt8Model(jit.ScriptModule module, QEngine engine, string source)
    {
        this.module = module;
        Engine = engine;
        Source = source;
    }

    /// <summary>The quantized engine the weights were packed for.</summary>
    public QEngine Engine { get; }

    /// <summary>The module's TorchScript source (<c>code/__torch__.py</c>).</summary>
    public string Source { get; }

    /// <summary>The size of the saved TorchScript archive.</summary>
    public long SerializedSizeBytes => Serialize().LongLength;

    /// <summary>Generates, compiles and prepacks the int8 model of <paramref name="quantized"/> under <paramref name="engine"/>.</summary>
    public static TorchScriptInt8Model Build(QuantizedGraph quantized, QEngine engine = QuantizedEngine.Default)
    {
        var generated = TorchScriptInt8Generator.Generate(quantized);
        var archive = TorchScriptArchive.Create(generated.ClassName, generated.Source, generated.ListAttributes);
        QuantizedEngine.Current = engine;
        var module = jit.load(archive, DeviceType.CPU);
        try
        {
            using var scope = NewDisposeScope();
            var layers = generated.Layers.Select(name => quantized.Weights[name]).ToList();
            module.invoke(
                "setup",
                layers.Select(w => w.IntWeight.contiguous()).ToArray(),
                layers.Select(w => w.Scales.to_type(ScalarType.Float64).contiguous()).ToArray(),
                layers.Select(w => w.ZeroPoints.to_type(ScalarType.Int64).contiguous()).ToArray(),
                generated.BiasedLayers.Select(name => quantized.Weights[name].Bias!.to_type(ScalarType.Float32).contiguous()).ToArray(),
                generated.FloatTensors.Select(name => FloatTensor(quantized, name)).ToArray());
            module.eval();
            return new TorchScriptInt8Model(module, engine, generated.Source);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>Loads a saved int8 TorchScript archive, repacking its weights under <paramref name="engine"/>.</summary>
    /// <exception cref="Int8CheckpointException">The bytes are not an intact TorchScript archive, or LibTorch rejects it.</exception>
    public static TorchScriptInt8Model Load(byte[] bytes, QEngine engine = QuantizedEngine.Default)
    {
        QuantizedEngine.Current = engine;
        var (module, source) = TorchScriptArchive.Load(bytes);
        return new TorchScriptInt8Model(module, engine, source) { serialized = bytes };
    }

    /// <inheritdoc cref="Load(byte[], QEngine)"/>
    public static TorchScriptInt8Model Load(string path, QEngine engine = QuantizedEngine.Default) => Load(File.ReadAllBytes(path), engine);

    /// <summary>
    /// Runs a float batch (N, C, H, W) and returns the float output: a model with several outputs returns them packed
    /// (<see cref="Graph.OutputLayout.Packed"/>); <see cref="RunAll"/> gives them one by one.
    /// </summary>
    public Tensor Run(Tensor input)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope(); // frees a tuple's tensors once packed
        var result = module.forward(input);
        return (result is Tensor output ? output : Graph.OutputLayout.Packed(Outputs(result))).MoveToOuterDisposeScope();
    }

    /// <summary>Every float output, in the graph's order (the module returns a tuple when there are several).</summary>
    public IReadOnlyList<Tensor> RunAll(Tensor input)
    {
        using var _ = no_grad();
        var result = module.forward(input);
        return result is Tensor output ? [output] : Outputs(result);
    }

    // TorchSharp hands a TorchScript tuple back as a .NET tuple or an array, depending on its length.
    private static Tensor[] Outputs(object result) => result switch
    {
        Tensor[] tensors => tensors,
        System.Runtime.CompilerServices.ITuple tuple => [.. Enumerable.Range(0, tuple.Length).Select(i => (Tensor)tuple[i]!)],
        object[] items => [.. items.Cast<Tensor>()],
        _ => throw new InvalidOperationException($"The int8 module returned {result?.GetType().Name ?? "nothing"}, not tensors."),
    };

    public void Save(Stream stream) => stream.Write(Serialize());

    public void Save(string path) => File.WriteAllBytes(path, Serialize());

    /// <summary>The TorchScript archive as <c>torch.jit.save</c> writes it.</summary>
    public byte[] Serialize()
    {
        serialized ??= TorchScriptArchive.Save(module, ArchiveRoot);
        return serialized;
    }

    public void Dispose() => module.Dispose();

    private static Tensor FloatTensor(QuantizedGraph quantized, string name)
    {
        if (name.StartsWith(TorchScriptInt8Generator.ConstantTensorPrefix, StringComparison.Ordinal))
        {
            var id = int.Parse(name[TorchScriptInt8Generator.ConstantTensorPrefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
            var constant = quantized.Graph.Nodes.OfType<Graph.ConstantNode>().Single(c => c.Output.Id == id);
            return constant.Value.detach().contiguous();
        }
        var dot = name.LastIndexOf('.');
        var (weight, bias) = quantized.FloatParameters(name[..dot]);
        var tensor = name[(dot + 1)..] == "bias" ? bias! : weight;
        return tensor.detach().to_type(ScalarType.Float32).contiguous();
    }
}

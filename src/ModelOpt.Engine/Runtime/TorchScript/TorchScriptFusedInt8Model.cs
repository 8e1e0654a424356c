using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// The int8 model on oneDNN's <c>qconv2d_pointwise</c> with residual adds fused into their convs
/// (<see cref="TorchScriptFusedInt8Generator"/>): float input, float output. Its saved form is a TorchScript archive
/// holding the int8 weights, which it packs when loaded; it needs a LibTorch or PyTorch built with oneDNN whose
/// <c>onednn</c> operators include <c>qconv2d_pointwise.binary</c> (LibTorch 2.10 has them; PyTorch 1.13 does not).
/// </summary>
/// <remarks>
/// Not bit-identical to <see cref="TorchScriptInt8Model"/>: the fused conv's output goes into the add unrounded.
/// Its linear layers are packed for the quantized engine current when it is built or loaded.
/// </remarks>
public sealed class TorchScriptFusedInt8Model : IDisposable
{
    private const string ArchiveRoot = "modelopt_int8_onednn_fused";

    private readonly jit.ScriptModule module;
    private byte[]? serialized;

    private TorchScriptFusedInt8Model(jit.ScriptModule module, string source)
    {
        this.module = module;
        Source = source;
    }

    /// <summary>The module's TorchScript source (<c>code/__torch__.py</c>).</summary>
    public string Source { get; }

    /// <summary>The size of the saved TorchScript archive.</summary>
    public long SerializedSizeBytes => Serialize().LongLength;

    /// <summary>Generates, compiles and packs the fused model of <paramref name="quantized"/>.</summary>
    /// <exception cref="NotSupportedException">The graph has no fused form (<see cref="TorchScriptFusedInt8Generator.Unsupported"/>).</exception>
    public static TorchScriptFusedInt8Model Build(QuantizedGraph quantized) => Build(quantized, TorchScriptFusedInt8Generator.Generate(quantized));

    /// <summary>Compiles and packs <paramref name="generated"/>, the fused source of <paramref name="quantized"/> (a test may edit it).</summary>
    internal static TorchScriptFusedInt8Model Build(QuantizedGraph quantized, TorchScriptFusedInt8Source generated)
    {
        var archive = TorchScriptArchive.CreateWithSetState(generated.ClassName, generated.Source, TorchScriptFusedInt8Generator.StateKeys);
        var module = jit.load(archive, DeviceType.CPU);
        try
        {
            using var scope = NewDisposeScope();
            var layers = generated.Layers.Select(name => quantized.Weights[name]).ToList();
            // qconv_prepack takes float scales, a per-channel quantized linear weight double ones.
            var linear = generated.Layers.Select(generated.LinearLayers.Contains).ToList();
            module.invoke(
                "load_weights",
                layers.Select(w => w.IntWeight.contiguous()).ToArray(),
                layers.Select((w, i) => w.Scales.to_type(linear[i] ? ScalarType.Float64 : ScalarType.Float32).contiguous()).ToArray(),
                layers.Select(w => w.ZeroPoints.to_type(ScalarType.Int64).contiguous()).ToArray(),
                layers.Select(w => (w.Bias ?? zeros(w.IntWeight.shape[0])).to_type(ScalarType.Float32).contiguous()).ToArray());
            module.eval();
            return new TorchScriptFusedInt8Model(module, generated.Source);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>Loads a saved fused archive; loading packs its weights.</summary>
    /// <exception cref="Int8CheckpointException">The bytes are not an intact TorchScript archive, or LibTorch rejects it.</exception>
    public static TorchScriptFusedInt8Model Load(byte[] bytes)
    {
        var (module, source) = TorchScriptArchive.Load(bytes);
        return new TorchScriptFusedInt8Model(module, source) { serialized = bytes };
    }

    /// <summary>Runs a float batch (N, C, H, W) and returns float logits.</summary>
    public Tensor Run(Tensor input)
    {
        using var _ = no_grad();
        return (Tensor)module.forward(input);
    }

    public void Save(string path) => File.WriteAllBytes(path, Serialize());

    /// <summary>The TorchScript archive as <c>torch.jit.save</c> writes it (the int8 weights, not their packed form).</summary>
    public byte[] Serialize() => serialized ??= TorchScriptArchive.Save(module, ArchiveRoot);

    public void Dispose() => module.Dispose();
}

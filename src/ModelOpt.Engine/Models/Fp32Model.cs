using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Import.Onnx;

namespace ModelOpt.Engine.Models;

/// <summary>
/// The FP32 model a job starts from, whatever it came as: a zoo architecture (with its checkpoint loaded, or freshly
/// initialised) or an ONNX file that carries its own architecture. Either way it is a captured <see cref="Graph"/>,
/// which calibration, conversion and export read, and a <see cref="Forward"/> pass the FP32 evaluation times.
/// </summary>
public sealed class Fp32Model : IDisposable
{
    private readonly Func<Tensor, Tensor> forward;
    private readonly IDisposable[] owners;
    private readonly Lazy<long> sizeBytes;

    private Fp32Model(ModelGraph graph, OutputLayout outputs, Func<Tensor, Tensor> forward, Func<long> sizeBytes, params IDisposable[] owners)
    {
        Graph = graph;
        Outputs = outputs;
        this.forward = forward;
        this.owners = owners;
        this.sizeBytes = new(sizeBytes);
    }

    /// <summary>The captured FP32 graph (batch of one at capture; it runs at any batch size).</summary>
    public ModelGraph Graph { get; }

    /// <summary>
    /// Every output the model gives, in order: a zoo model's logits; an ONNX model's output named by the job, or else every
    /// graph output. <see cref="Forward"/> returns them packed (<see cref="OutputLayout.Pack"/>).
    /// </summary>
    public OutputLayout Outputs { get; }

    /// <summary>The first output's shape per image, after the batch axis: [classes] for a classifier's logits.</summary>
    public long[] OutputShape => Outputs.Outputs[0].Shape;

    /// <summary>The first output's name: the ONNX graph output, or <see cref="ZooOutputName"/> for a zoo model.</summary>
    public string OutputName => Outputs.Outputs[0].Name;

    public bool HasSeveralOutputs => !Outputs.IsSingle;

    /// <summary>A zoo model's only output: its class logits.</summary>
    public const string ZooOutputName = "logits";

    /// <summary>The notebook's size: a zoo model's serialized state_dict, or the .onnx file.</summary>
    public long SizeBytes => sizeBytes.Value;

    /// <summary>
    /// Eager TorchSharp: a copy of the zoo module with its convolution weights channels-last (<see cref="ChannelsLast"/>),
    /// or the interpreter over a copy of the imported graph with channels-last conv weights, its outputs packed
    /// (<see cref="OutputLayout.Pack"/>).
    /// </summary>
    public Tensor Forward(Tensor input) => forward(input);

    /// <summary>
    /// A zoo model (<paramref name="checkpointPath"/> loaded when given) or, for a name made by
    /// <see cref="OnnxModelName.Of"/>, the ONNX file at <paramref name="checkpointPath"/>.
    /// </summary>
    /// <param name="inputShape">[C, H, W] the data gives; an ONNX model must expect exactly that.</param>
    /// <exception cref="CheckpointFormatException">The checkpoint is not readable.</exception>
    /// <exception cref="CheckpointMismatchException">It does not fit the architecture.</exception>
    /// <exception cref="OnnxFormatException">The ONNX file is not readable.</exception>
    /// <exception cref="UnsupportedOnnxModelException">It uses ops ModelOpt does not map.</exception>
    /// <exception cref="ArgumentException">An ONNX model without its file, or whose input or classes differ from the data's.</exception>
    /// <param name="numClasses">The logits' width a classifier must give; null takes an ONNX model's output of any shape, and
    /// a zoo model's head as its checkpoint has it (a zoo model without a checkpoint needs it).</param>
    /// <param name="outputName">The ONNX graph output to use; null for every graph output, in the file's order.</param>
    public static Fp32Model Open(string modelName, long[] inputShape, long? numClasses, string? checkpointPath, string? outputName = null)
    {
        if (OnnxModelName.IsOnnx(modelName))
        {
            return FromOnnx(checkpointPath ?? throw new ArgumentException($"Model {modelName} needs its ONNX file as the checkpoint."), inputShape, numClasses, outputName);
        }
        // The checkpoint's head is read from its layout (names and shapes, a few kilobytes), not its tensors.
        var classes = numClasses
            ?? (checkpointPath is null
                ? throw new ArgumentException($"Model {modelName} is a classifier: it needs the number of classes.")
                : CheckpointReader.ReadLayout(checkpointPath).InferDimensions().NumClasses);
        var model = ModelZoo.Create(modelName, inputShape[0], classes);
        try
        {
            if (checkpointPath is not null)
            {
                CheckpointLoader.LoadInto(model, checkpointPath);
            }
            model.eval();
            var captured = GraphBuilder.Capture(model, [1, .. inputShape]);
            var eager = ChannelsLastCopy(model, modelName, inputShape[0], classes);
            return new Fp32Model(captured, new([new(ZooOutputName, [classes])]), eager.call, () => ModelSize.StateDictBytes(model), model, eager);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc cref="Open"/>
    public static Fp32Model FromOnnx(string path, long[] inputShape, long? numClasses, string? outputName = null)
    {
        // A dynamic H and W is read at the data's size, any output shape is read; a classifier's (numClasses given) must be its logits.
        var imported = OnnxImporter.Import(path, new OnnxImportOptions(inputShape[1], inputShape[2], outputName, AnyOutputShape: true, EveryOutput: true));
        if (!imported.InputShape.SequenceEqual(inputShape)
            || (numClasses is { } classes && (imported.OutputShapes.Count > 1 || !imported.OutputShape.SequenceEqual([classes]))))
        {
            imported.Dispose();
            var gives = imported.OutputShapes.Count > 1 ? $"{imported.OutputShapes.Count} outputs ({string.Join(", ", imported.Graph.OutputNames)}; a classifier's is named by output.name)"
                : imported.OutputShape is [var width] ? $"{width} classes" : $"outputs shaped [N, {string.Join(", ", imported.OutputShape)}]";
            throw new ArgumentException(
                $"The ONNX model takes [{string.Join(", ", imported.InputShape)}] images and gives {gives}; " +
                $"the dataset has [{string.Join(", ", inputShape)}] images" + (numClasses is null ? "." : $" and {numClasses} classes."));
        }
        var eager = ChannelsLast.Apply(imported.Graph);
        var outputs = OutputLayout.Of(imported.Graph.OutputNames, imported.OutputShapes);
        // The input goes in channels-last, so every 4-D activation stays NHWC; an output comes back in NCHW strides,
        // as ONNX Runtime and the int8 forms give it.
        Func<Tensor, Tensor> forward = outputs.IsSingle
            ? x =>
            {
                using var scope = NewDisposeScope();
                return GraphInterpreter.Run(eager, ChannelsLast.Input(x)).contiguous().MoveToOuterDisposeScope();
            }
            : x =>
            {
                using var scope = NewDisposeScope();
                return outputs.Pack(GraphInterpreter.RunAll(eager, ChannelsLast.Input(x))).contiguous().MoveToOuterDisposeScope();
            };
        return new Fp32Model(imported.Graph, outputs, forward, () => new FileInfo(path).Length, imported, eager);
    }

    // The graph refers to the module's own tensors, which stay NCHW for calibration, export and the size.
    private static nn.Module<Tensor, Tensor> ChannelsLastCopy(nn.Module<Tensor, Tensor> model, string modelName, long channels, long numClasses)
    {
        var copy = ModelZoo.Create(modelName, channels, numClasses);
        try
        {
            copy.load_state_dict(model.state_dict());
            copy.eval();
            ChannelsLast.Apply(copy);
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Graph.Dispose();
        foreach (var owner in owners)
        {
            owner.Dispose();
        }
    }
}

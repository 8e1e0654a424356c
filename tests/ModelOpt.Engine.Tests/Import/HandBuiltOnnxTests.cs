using Google.Protobuf;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Graph.FloatOps;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Sensitivity;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Runtime.Onnx;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Runtime;
using ModelOpt.Engine.Tests.Onnx;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>Small ONNX graphs written here, for forms torch.onnx does not emit for the fixtures; ONNX Runtime is the reference.</summary>
[Collection(QuantizedEngineCollection.Name)]
public class HandBuiltOnnxTests
{
    [Fact]
    public void A_zero_pad_before_a_conv_is_folded_into_its_padding()
    {
        var model = Model(
            [Node("Pad", "pad", ["x", "pads"], "padded"), Node("Conv", "conv", ["padded", "w"], "features"), Node("Flatten", "flatten", ["features"], "y")],
            [Int64s("pads", [0, 0, 1, 2, 0, 0, 1, 2]), Floats("w", [2, 1, 3, 3])]);
        using var directory = new TempDirectory();
        var path = directory.File("pad_conv.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        using var input = randn(3, 1, 8, 8);

        using var imported = OnnxImporter.Import(path);
        using var runtime = OnnxRuntimeModel.Load(path);
        using var expected = runtime.Run(input);
        using var actual = GraphInterpreter.Run(imported.Graph, input);

        var conv = Assert.Single(imported.Graph.Nodes.OfType<Conv2dNode>());
        Assert.Equal([1L, 2], conv.Padding);
        Assert.Empty(imported.Graph.Nodes.OfType<ReLUNode>());
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    /// <summary>GoogLeNet and SqueezeNet pool with ceil_mode; the int8 model pools on quantized tensors the same way.</summary>
    [Fact]
    public void Ceil_mode_pooling_matches_onnx_runtime_and_runs_in_int8()
    {
        var model = Model(
            [
                Node("Conv", "conv", ["x", "w"], "features"),
                Node("MaxPool", "maxpool", ["features"], "max", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Int("ceil_mode", 1)),
                Node("AveragePool", "avgpool", ["max"], "avg", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("ceil_mode", 1)),
                Node("Flatten", "flatten", ["avg"], "y"),
            ],
            [Floats("w", [4, 1, 1, 1])]);
        using var directory = new TempDirectory();
        var path = directory.File("ceil.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        using var input = randn(16, 1, 8, 8);

        using var imported = OnnxImporter.Import(path);
        using var runtime = OnnxRuntimeModel.Load(path);
        using var expected = runtime.Run(input);
        using var actual = GraphInterpreter.Run(imported.Graph, input);
        using var prepared = QuantizePt2e.Prepare(imported.Graph, X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [input]);
        using var quantized = QuantizePt2e.Convert(prepared);
        using var int8 = TorchScriptInt8Model.Build(quantized);
        using var int8Output = int8.Run(input);
        using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, input);

        Assert.Equal([16L, 4 * 2 * 2], actual.shape); // 8 → ceil(5 / 2) + 1 = 4 → 2
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5));
        Assert.True(int8Output.allclose(simulated, rtol: 0, atol: 2 * quantized.QuantizationOf(quantized.Graph.Output).Scale));
    }

    [Fact]
    public void A_pad_that_no_conv_reads_runs_as_a_pad_of_its_own()
    {
        var model = Model(
            [Node("Pad", "pad", ["x", "pads"], "padded"), Node("Relu", "relu", ["padded"], "features"), Node("Flatten", "flatten", ["features"], "y")],
            [Int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1])]);

        var (imported, _) = AssertMatchesOnnxRuntime(model);

        Assert.Contains(imported.Graph.Nodes, n => n is FloatOpNode { Op: PadOp });
        imported.Dispose();
    }

    [Fact]
    public void A_reshape_to_any_shape_runs_at_any_batch_size()
    {
        var model = Model(
            [
                Node("Reshape", "reshape", ["x", "shape"], "rows"),
                Node("Softmax", "softmax", ["rows"], "attention", Int("axis", -1)),
                Node("Flatten", "flatten", ["attention"], "y"),
            ],
            [Int64s("shape", [0, 2, 32])]);

        AssertMatchesOnnxRuntime(model).Imported.Dispose();
    }

    [Fact]
    public void Unsupported_ops_are_listed_with_their_node_names()
    {
        var topK = Node("TopK", "", ["x", "k"], "values");
        var model = Model([topK, Node("LSTM", "lstm", ["values"], "y")], [Int64s("k", [1])]);

        var e = Assert.Throws<UnsupportedOnnxModelException>(() => OnnxImporter.Import(model, "rnn.onnx"));

        Assert.Equal(["TopK", "LSTM"], e.OpTypes);
        Assert.Equal(["TopK_0", "lstm"], e.Nodes.Select(n => n.NodeName));
        Assert.StartsWith("'rnn.onnx' uses ONNX ops ModelOpt cannot map (TopK, LSTM).", e.Message);
    }

    /// <summary>A shape problem names the node at fault in ONNX's terms, never the graph input.</summary>
    [Fact]
    public void A_shape_problem_names_the_node_and_the_shapes()
    {
        var model = Model([Node("Add", "add", ["x", "bias"], "shifted"), Node("Flatten", "flatten", ["shifted"], "y")], [Floats("bias", [3])]);

        var e = Assert.Throws<UnsupportedOnnxModelException>(() => OnnxImporter.Import(model, "add.onnx"));

        var node = Assert.Single(e.Nodes);
        Assert.Equal(("Add", "add", true), (node.OpType, node.NodeName, node.IsNode));
        Assert.Contains("[1, 1, 8, 8] and [3]", node.Reason);
        Assert.Equal(["Add"], e.OpTypes);
    }

    [Fact]
    public void Dynamic_height_and_width_are_refused_by_name_without_a_size_and_read_with_one()
    {
        var model = Model(
            [Node("Conv", "conv", ["x", "w"], "features", Ints("pads", 1, 1, 1, 1)), Node("GlobalAveragePool", "pool", ["features"], "pooled"), Node("Flatten", "flatten", ["pooled"], "y")],
            [Floats("w", [2, 1, 3, 3])], dims: ["N", 1, "height", "width"]);

        var e = Assert.Throws<UnsupportedOnnxModelException>(() => OnnxImporter.Import(model, "dynamic.onnx"));
        var problem = Assert.Single(e.Nodes);
        Assert.Equal(("graph input", "x", false), (problem.OpType, problem.NodeName, problem.IsNode));
        Assert.Contains("H ('height') and W ('width') are dynamic", problem.Reason);
        Assert.Empty(e.OpTypes);

        var (imported, _) = AssertMatchesOnnxRuntime(model, new OnnxImportOptions(InputHeight: 12, InputWidth: 10), [3, 1, 12, 10]);
        Assert.Equal([1L, 12, 10], imported.InputShape);
        imported.Dispose();
    }

    [Fact]
    public void A_bool_initializer_is_read()
    {
        var mask = new TensorProto { Name = "mask", DataType = (int)DataType.Bool };
        mask.Dims.AddRange([1, 1, 8, 8]);
        mask.Int32Data.AddRange(Enumerable.Range(0, 64).Select(i => i % 3 == 0 ? 1 : 0));
        var model = Model(
            [Node("Where", "where", ["mask", "x", "zero"], "masked"), Node("Flatten", "flatten", ["masked"], "y")],
            [mask, Floats("zero", [1])]);

        AssertMatchesOnnxRuntime(model).Imported.Dispose();
    }

    /// <summary>Opset 6: Add broadcast the second operand only with broadcast=1, aligned at an axis.</summary>
    [Fact]
    public void An_opset_6_graph_is_read_with_its_legacy_broadcast()
    {
        var model = Model(
            [Node("Add", "add", ["x", "bias"], "shifted", Int("broadcast", 1), Int("axis", 1)), Node("Relu", "relu", ["shifted"], "features"), Node("Flatten", "flatten", ["features"], "y")],
            [Floats("bias", [1])], opset: 6);
        using var input = randn(2, 1, 8, 8);
        using var bias = tensor(MathF.Sin(0)).reshape(1, 1, 1, 1);

        using var imported = OnnxImporter.Import(model, "opset6.onnx");
        using var actual = GraphInterpreter.Run(imported.Graph, input);
        using var expected = (input + bias).relu().flatten(1);

        Assert.True(actual.allclose(expected));
    }

    /// <summary>Pads PyTorch's pooling refuses (over half the kernel, asymmetric) become an explicit Pad, for MaxPool and both AveragePool forms.</summary>
    [Theory]
    [InlineData("MaxPool", 0)]
    [InlineData("AveragePool", 0)]
    [InlineData("AveragePool", 1)]
    public void Pooling_pads_larger_than_half_the_kernel_or_asymmetric_match_onnx_runtime(string op, long countIncludePad)
    {
        var model = Model(
            [
                Node(op, "pool", ["x"], "pooled", [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 2, 0, 1, 2), .. op == "AveragePool" ? new[] { Int("count_include_pad", countIncludePad) } : []]),
                Node("Flatten", "flatten", ["pooled"], "y"),
            ],
            []);

        AssertMatchesOnnxRuntime(model).Imported.Dispose();
    }

    [Fact]
    public void A_conv_with_asymmetric_pads_matches_onnx_runtime_and_runs_in_int8()
    {
        var model = Model(
            [Node("Conv", "conv", ["x", "w", "b"], "features", Ints("pads", 0, 1, 2, 0), Ints("strides", 2, 2)), Node("Flatten", "flatten", ["features"], "y")],
            [Floats("w", [3, 1, 3, 3]), Floats("b", [3])]);

        var (imported, input) = AssertMatchesOnnxRuntime(model);
        using (imported)
        using (input)
        {
            AssertInt8BackendsAgree(imported.Graph, input);
        }
    }

    [Fact]
    public void The_first_graph_output_is_the_model_unless_another_is_named()
    {
        var model = Model(
            [Node("Flatten", "flatten", ["x"], "y"), Node("Relu", "relu", ["y"], "z")],
            [], outputs: ["y", "z"]);
        using var input = randn(2, 1, 8, 8);

        using var first = OnnxImporter.Import(model, "two.onnx");
        using var named = OnnxImporter.Import(model, "two.onnx", new OnnxImportOptions(OutputName: "z"));
        using var y = GraphInterpreter.Run(first.Graph, input);
        using var z = GraphInterpreter.Run(named.Graph, input);

        Assert.True(y.equal(input.flatten(1)).all().item<bool>());
        Assert.True(z.equal(input.flatten(1).relu()).all().item<bool>());
        var e = Assert.Throws<UnsupportedOnnxModelException>(() => OnnxImporter.Import(model, "two.onnx", new OnnxImportOptions(OutputName: "logits")));
        Assert.Contains("its outputs are y, z", e.Message);
    }

    /// <summary>
    /// A transformer block as exporters write it: a linear layer as MatMul + Add on (N, tokens, features), opset 17's
    /// LayerNormalization, attention's activation × activation MatMuls and softmax, GELU in its Erf form. The linear
    /// layers run int8; the rest stays FP32 and is listed; both int8 backends agree with the fake-quant reference, and a
    /// transformer linear layer can be kept FP32.
    /// </summary>
    [Fact]
    public void A_transformer_block_imports_exactly_and_both_int8_backends_run_it()
    {
        var model = Model(
            [
                Node("Reshape", "tokens", ["x", "shape"], "t"),
                Node("MatMul", "qkv", ["t", "w1"], "h0"),
                Node("Add", "qkv_bias", ["h0", "b1"], "h"),
                Node("LayerNormalization", "norm", ["h", "gamma", "beta"], "n", Int("axis", -1)),
                Node("Transpose", "keys", ["n"], "nt", Ints("perm", 0, 2, 1)),
                Node("MatMul", "scores", ["n", "nt"], "s"),
                Node("Softmax", "attention", ["s"], "a", Int("axis", -1)),
                Node("MatMul", "context", ["a", "n"], "ctx"),
                Node("Div", "gelu_div", ["ctx", "sqrt2"], "g0"),
                Node("Erf", "gelu_erf", ["g0"], "g1"),
                Node("Add", "gelu_add", ["g1", "one"], "g2"),
                Node("Mul", "gelu_mul", ["ctx", "g2"], "g3"),
                Node("Mul", "gelu_half", ["g3", "half"], "g"),
                Node("Flatten", "flatten", ["g"], "f"),
                Node("Gemm", "head", ["f", "w2", "b2"], "y", Int("transB", 1)),
            ],
            [
                Int64s("shape", [0, 8, 8]), Floats("w1", [8, 16]), Floats("b1", [16]), Floats("gamma", [16]), Floats("beta", [16]),
                Scalar("sqrt2", MathF.Sqrt(2)), Scalar("one", 1), Scalar("half", 0.5f), Floats("w2", [10, 128]), Floats("b2", [10]),
            ],
            opset: 17);

        var (imported, input) = AssertMatchesOnnxRuntime(model, inputShape: [16, 1, 8, 8]);
        using (imported)
        using (input)
        {
            Assert.Equal(["qkv", "head"], X86InductorQuantizer.QuantizableLayers(imported.Graph));
            var floats = AssertInt8BackendsAgree(imported.Graph, input, inspect: quantized =>
            {
                // The per-layer report and bias correction take linear layers on (N, tokens, features) outputs.
                var report = LayerSensitivityAnalysis.Analyze(quantized, [input], null, 16);
                Assert.Equal(["head", "qkv"], report.Select(r => r.Layer).Order());
                Assert.All(report, r => Assert.True(double.IsFinite(r.SqnrDb) && r.SqnrDb > 10, $"{r.Layer}: SQNR {r.SqnrDb} dB"));
                var shifts = FastBiasCorrection.MeanOutputShift(quantized, [input]);
                Assert.Equal([16L], shifts["qkv"].shape);
                Assert.Equal([10L], shifts["head"].shape);
            });
            Assert.Contains("norm (LayerNormalization)", floats);
            Assert.Contains("scores (MatMul)", floats);
            Assert.Contains("attention (Softmax)", floats);
            Assert.Contains("gelu_erf (Erf)", floats);
            Assert.Contains("qkv (Linear)", AssertInt8BackendsAgree(imported.Graph, input, keepFloat: ["qkv"]));
        }
    }

    /// <summary>
    /// A graph written the way other exporters write it (tf2onnx, Paddle2ONNX): hard-swish as x * Clip(x + 3, 0, 6) / 6,
    /// a flatten as Shape → Cast → Slice → Concat → Reshape, opset 11, dynamic height and width.
    /// </summary>
    [Fact]
    public void A_graph_in_other_exporters_style_matches_onnx_runtime_and_runs_in_int8()
    {
        var model = Model(
            [
                Node("Conv", "conv", ["x", "w", "b"], "c", Ints("pads", 1, 1, 1, 1)),
                Node("Add", "plus3", ["c", "three"], "c3"),
                Node("Clip", "relu6", ["c3", "zero", "six"], "r6"),
                Node("Mul", "times", ["c", "r6"], "m"),
                Node("Div", "hardswish", ["m", "six"], "hs"),
                Node("MaxPool", "pool", ["hs"], "p", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
                Node("Shape", "shape", ["p"], "s"),
                Node("Cast", "cast", ["s"], "s32", Int("to", (long)DataType.Int32)),
                Node("Slice", "batch", ["s32", "starts", "ends", "axes"], "n"),
                Node("Cast", "cast64", ["n"], "n64", Int("to", (long)DataType.Int64)),
                Node("Concat", "target", ["n64", "minus1"], "t", Int("axis", 0)),
                Node("Reshape", "flatten", ["p", "t"], "f"),
                Node("Gemm", "fc", ["f", "w2", "b2"], "y", Int("transB", 1)),
            ],
            [
                Floats("w", [4, 1, 3, 3]), Floats("b", [4]), Scalar("three", 3), Scalar("zero", 0), Scalar("six", 6),
                Int64s("starts", [0]), Int64s("ends", [1]), Int64s("axes", [0]), Int64s("minus1", [-1]), Floats("w2", [10, 4 * 6 * 5]), Floats("b2", [10]),
            ],
            opset: 11, dims: ["N", 1, "H", "W"]);

        var (imported, input) = AssertMatchesOnnxRuntime(model, new OnnxImportOptions(InputHeight: 12, InputWidth: 10), [8, 1, 12, 10]);
        using (imported)
        using (input)
        {
            Assert.Contains(imported.Graph.Nodes, n => n is FlattenNode);
            AssertInt8BackendsAgree(imported.Graph, input);
        }
    }

    /// <summary>Imports the model, runs it and ONNX Runtime on the same random batch and checks they agree.</summary>
    private static (ImportedOnnxModel Imported, Tensor Input) AssertMatchesOnnxRuntime(ModelProto model, OnnxImportOptions? options = null, long[]? inputShape = null)
    {
        using var directory = new TempDirectory();
        var path = directory.File("model.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        var input = randn(inputShape ?? [3, 1, 8, 8]);
        var imported = OnnxImporter.Import(path, options);
        using var runtime = OnnxRuntimeModel.Load(path);
        using var expected = runtime.Run(input);
        using var actual = GraphInterpreter.Run(imported.Graph, input);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5), $"max difference {(actual - expected).abs().max().item<float>()}");
        return (imported, input);
    }

    /// <summary>Quantizes on <paramref name="input"/>, builds both int8 backends, compares them with the fake-quant reference; returns the FP32 nodes.</summary>
    private static IReadOnlyList<string> AssertInt8BackendsAgree(ModelGraph graph, Tensor input, string[]? keepFloat = null, Action<QuantizedGraph>? inspect = null)
    {
        using var prepared = QuantizePt2e.Prepare(graph, X86InductorQuantizer.GetDefaultQuantizationConfig(), keepFloat);
        QuantizePt2e.Calibrate(prepared, [input]);
        using var quantized = QuantizePt2e.Convert(prepared);
        inspect?.Invoke(quantized);
        using var int8 = TorchScriptInt8Model.Build(quantized);
        using var directory = new TempDirectory();
        var qdqPath = directory.File("int8.onnx");
        Export.Onnx.OnnxExporter.Save(Export.Onnx.OnnxExporter.ExportQdq(quantized), qdqPath);
        using var qdq = OnnxRuntimeModel.Load(qdqPath);
        using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, input);
        using var torchScript = int8.Run(input);
        using var ort = qdq.Run(input);
        // The archive keeps the float ops' constants (self.float_params) through torch.jit.save and load.
        using var reloaded = TorchScriptInt8Model.Load(int8.Serialize());
        using var reloadedOutput = reloaded.Run(input);
        Assert.True(reloadedOutput.equal(torchScript).all().item<bool>());

        // Each backend's int32 accumulation may round an output differently from the float reference by a step or two.
        var step = quantized.QuantizationOf(quantized.Graph.Output).Scale;
        Assert.True(torchScript.allclose(simulated, rtol: 0, atol: 3 * step), $"TorchScript vs fake-quant: {(torchScript - simulated).abs().max().item<float>()} (step {step})");
        Assert.True(ort.allclose(simulated, rtol: 0, atol: 3 * step), $"ONNX Runtime QDQ vs fake-quant: {(ort - simulated).abs().max().item<float>()} (step {step})");
        return quantized.FloatNodes();
    }

    /// <summary>Input x: float (N, 1, 8, 8) unless <paramref name="dims"/> say otherwise (a string is a symbolic dimension); output y.</summary>
    /// <summary>
    /// The eager FP32 model (Fp32Model.Forward) of a net whose stem conv has one input channel: every 4-D value after
    /// the input runs channels-last (the pools and the cat too), and the result still equals ONNX Runtime's, Flatten
    /// included, which must read the values in NCHW order. The stem's output is read twice, so its ReLU may not overwrite
    /// it; the 1x1 conv's output is read by its clamp alone, which may.
    /// </summary>
    [Fact]
    public void A_one_channel_stem_runs_channels_last_through_pools_and_cat_and_flattens_in_nchw_order()
    {
        var model = Model(
            [
                Node("Conv", "stem", ["x", "w"], "stem", Ints("pads", 1, 1, 1, 1)),
                Node("Relu", "relu", ["stem"], "r"),
                Node("MaxPool", "maxpool", ["r"], "max", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
                Node("AveragePool", "avgpool", ["r"], "avg", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
                Node("Conv", "side", ["stem", "w1"], "side"),
                Node("Clip", "relu6", ["side", "zero", "six"], "side6"),
                Node("Concat", "cat", ["max", "avg", "side6"], "joined", Int("axis", 1)),
                Node("Flatten", "flatten", ["joined"], "y"),
            ],
            [Floats("w", [4, 1, 3, 3]), Floats("w1", [3, 4, 1, 1]), Scalar("zero", 0), Scalar("six", 0.5f)]);
        using var directory = new TempDirectory();
        var path = directory.File("one_channel_stem.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        using var input = randn(4, 1, 8, 8);

        using var fp32 = Fp32Model.FromOnnx(path, [1, 8, 8], numClasses: null);
        using var noGrad = no_grad(); // as the evaluation runs it: the in-place activations need it
        using var runtime = OnnxRuntimeModel.Load(path);
        using var expected = runtime.Run(input);
        using var actual = fp32.Forward(input);

        using var eager = ChannelsLast.Apply(fp32.Graph);
        using var nhwcInput = ChannelsLast.Input(input);
        var layouts = new List<string>();
        using (GraphInterpreter.Run(eager, nhwcInput, (value, tensor) =>
        {
            if (tensor.dim() == 4)
            {
                var (c, h, w) = (tensor.shape[1], tensor.shape[2], tensor.shape[3]);
                layouts.Add(tensor.stride().SequenceEqual([h * w * c, 1, w * c, c]) ? "nhwc" : $"strides [{string.Join(", ", tensor.stride())}]");
            }
        }))
        {
        }

        Assert.Equal([4L, 11 * 8 * 8], actual.shape);
        Assert.Equal(Enumerable.Repeat("nhwc", 8), layouts); // the input, stem, relu, both pools, side, clamp and cat
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"max difference {(actual - expected).abs().max().item<float>()}");
    }

    private static ModelProto Model(NodeProto[] nodes, TensorProto[] initializers, int opset = 13, object[]? dims = null, string[]? outputs = null)
    {
        var graph = new GraphProto { Name = "hand-built" };
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers);
        var shape = new TensorShapeProto();
        foreach (var d in dims ?? ["N", 1L, 8L, 8L])
        {
            shape.Dim.Add(d is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = System.Convert.ToInt64(d) });
        }
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } });
        foreach (var output in outputs ?? ["y"])
        {
            graph.Output.Add(new ValueInfoProto { Name = output, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float } } });
        }
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    private static TensorProto Scalar(string name, float value)
    {
        var proto = new TensorProto { Name = name, DataType = (int)DataType.Float };
        proto.FloatData.Add(value);
        return proto;
    }

    private static NodeProto Node(string opType, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static TensorProto Int64s(string name, long[] values)
    {
        var proto = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        return proto;
    }

    /// <summary>Deterministic float weights of the given shape.</summary>
    private static TensorProto Floats(string name, long[] shape)
    {
        var proto = new TensorProto { Name = name, DataType = (int)DataType.Float };
        proto.Dims.AddRange(shape);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        proto.FloatData.AddRange(Enumerable.Range(0, (int)count).Select(i => MathF.Sin(i * 0.37f)));
        return proto;
    }
}

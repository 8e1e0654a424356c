using System.Text.RegularExpressions;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Import;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Runtime;

// LibTorch's quantized engine is process-wide (the linear layers are packed for it): not in parallel with other engine tests.
[Collection(QuantizedEngineCollection.Name)]
public class TorchScriptFusedInt8ModelTests(ITestOutputHelper output)
{
    public static TheoryData<string, long> ResidualModels => new()
    {
        { ModelZoo.ResNet20, 1 },
        { ModelZoo.ResNet18Cifar, 3 },
        { ModelZoo.ResNet18, 3 },
        { ModelZoo.MobileNetV2Cifar, 1 },
    };

    /// <summary>
    /// The fused model against two references: the fake-quant simulation with the fused convs' outputs left unrounded
    /// (what oneDNN's sum post-op computes; the bound is the one the converted form meets against the plain simulation),
    /// and LibTorch's <c>quantized::conv2d</c> + <c>quantized::add</c>, which round the conv output once more per block
    /// (3 to 7 steps apart on these random models). Random models have near-tied logits, so top-1 is compared where the simulation decides (<see cref="TopOneAgreement"/>).
    /// </summary>
    [Theory]
    [MemberData(nameof(ResidualModels))]
    public void Fused_model_fuses_every_residual_add_and_computes_the_sum_post_op_s_numerics(string name, long channels)
    {
        manual_seed(23);
        using var model = ModelZoo.Create(name, channels, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, channels, 32, 32], QuantizedModels.Default());
        Assert.Null(TorchScriptFusedInt8Generator.Unsupported(quantized));
        var generated = TorchScriptFusedInt8Generator.Generate(quantized);
        using var fused = TorchScriptFusedInt8Model.Build(quantized);
        using var converted = TorchScriptInt8Model.Build(quantized, QEngine.X86);
        using var input = randn(64, channels, 32, 32);

        using var actual = fused.Run(input);
        using var simulated = FusedSimulation(quantized, generated.FusedConvs, input);
        using var kernels = converted.Run(input);

        var adds = quantized.Graph.Nodes.OfType<AddNode>().Count();
        Assert.True(adds > 0, $"{name} has no residual add");
        Assert.Equal(adds, generated.FusedConvs.Count);
        Assert.Equal(adds, fused.Source.Split('\n').Count(line => line.Contains("\"sum\"")));
        var outputScale = quantized.QuantizationOf(quantized.Graph.Output).Scale;
        var simulatedSteps = (actual - simulated).abs().max().item<float>() / outputScale;
        var kernelSteps = (actual - kernels).abs().max().item<float>() / outputScale;
        var agreement = TopOneAgreement.Of(actual, simulated, outputScale);
        output.WriteLine($"{name}: {adds} adds fused; max |fused - fused simulation| = {simulatedSteps:F2} output steps ({agreement}), " +
            $"max |fused - quantized::conv2d + add| = {kernelSteps:F2} steps");
        Assert.True(simulatedSteps <= 4, $"{name}: fused logits differ from the fused simulation by {simulatedSteps:F2} output quantization steps");
        // A random mobilenet_v2-cifar gives every input the same logits (no decisive input): overall agreement decides there.
        Assert.True(agreement.Overall >= 0.95 || agreement.Holds(0.95), $"{name}: against the fused simulation, {agreement}");
        Assert.True(kernelSteps <= 10, $"{name}: fused logits differ from LibTorch's quantized kernels by {kernelSteps:F2} output quantization steps");
    }

    /// <summary>
    /// ReLU6 as the conv's hardtanh post-op: clamping before the output's rounding equals clamping the rounded values, so
    /// no clamp op is left and the numbers are the fake-quant reference's (2 output steps apart on the ONNX fixture, as
    /// oneDNN's requantization rounds; the converted form is 1 step from it) with the converted form's top-1 (issue 28).
    /// </summary>
    [Fact]
    public void Relu6_after_a_conv_runs_as_its_hardtanh_post_op_within_two_output_steps_of_the_fake_quant_reference()
    {
        using var inputs = OnnxFixtures.Inputs();
        using var imported = OnnxImporter.Import(OnnxFixtures.PathOf("mobilenet_v2_like_opset13_dynamic.onnx"));
        using var quantized = Calibrated(imported.Graph, inputs);
        var generated = TorchScriptFusedInt8Generator.Generate(quantized);
        using var outputs = ThreeWays.Run(quantized, inputs);
        var (actual, simulated, kernels) = outputs;

        var clamps = quantized.Graph.Nodes.OfType<ClampNode>().Count();
        var steps = Steps(actual, simulated, quantized);
        output.WriteLine($"{clamps} clamps, {generated.ClampFusedConvs.Count} fused; {steps:F2} output steps from fake-quant, " +
            $"{Steps(actual, kernels, quantized):F2} from the converted form, which is {Steps(kernels, simulated, quantized):F2} from fake-quant");
        Assert.True(clamps > 0);
        Assert.Equal(clamps, generated.ClampFusedConvs.Count);
        Assert.DoesNotContain("torch.clamp(", generated.Source);
        Assert.Equal(clamps, generated.Source.Split('\n').Count(line => line.Contains("\"hardtanh\"")));
        Assert.True(steps <= 2, $"{steps:F2} output steps from the fake-quant reference");
        Assert.Equal(kernels.argmax(1).data<long>().ToArray(), actual.argmax(1).data<long>().ToArray());
    }

    /// <summary>
    /// An Inception block (1x1, 3x3 and max-pool branches, ReLU6, cat): the convs read only by the cat write its qparams
    /// and the cat is a plain uint8 concatenation, as a shared observer would quantize it; a cat with an input in other
    /// qparams (a max pool of the block's input) keeps LibTorch's requantizing cat. Checked against the fake-quant
    /// simulation with those convs quantized to the cat's qparams.
    /// </summary>
    [Fact]
    public void Convs_read_only_by_a_cat_write_its_qparams_and_the_cat_only_moves_uint8_data()
    {
        manual_seed(41);
        using var inputs = randn(32, 4, 8, 8) * 3;
        using var graph = InceptionBlock();
        using var quantized = Calibrated(graph, inputs);
        var generated = TorchScriptFusedInt8Generator.Generate(quantized);
        using var fused = TorchScriptFusedInt8Model.Build(quantized);

        using var actual = fused.Run(inputs);
        using var simulated = ConcatenatedSimulation(quantized, generated, inputs);
        var steps = Steps(actual, simulated, quantized);
        output.WriteLine($"{steps:F2} output steps from the simulation with shared cat qparams\n{generated.Source}");

        Assert.Equal(["a", "b", "d"], generated.ClampFusedConvs.Order());
        Assert.Equal(["a", "b", "c"], generated.ConcatenatedConvs.Order());
        Assert.Single(generated.Source.Split('\n'), line => line.Contains("torch.cat([u_"));
        Assert.Single(generated.Source.Split('\n'), line => line.Contains("ops.quantized.cat(["));
        Assert.True(steps <= 2, $"{steps:F2} output steps from the simulation");
    }

    /// <summary>
    /// A concatenation of uint8 NHWC parts moved as wider integers (issue 28) gives torch.cat's bytes: 24+8+8+16 and
    /// 8+16 channels as int64, 12+20 as int32, 6+10 as int16, one NCHW part copied to NHWC first.
    /// </summary>
    [Theory]
    [InlineData(new long[] { 8, 16 }, ScalarType.Int64, false)]
    [InlineData(new long[] { 24, 8, 8, 16 }, ScalarType.Int64, true)]
    [InlineData(new long[] { 12, 20 }, ScalarType.Int32, false)]
    [InlineData(new long[] { 6, 10 }, ScalarType.Int16, true)]
    public void Channel_cat_of_wider_integers_moves_the_bytes_of_torch_cat(long[] channels, ScalarType width, bool lastPartNchw)
    {
        manual_seed(59);
        var names = channels.Select((_, i) => $"p{i}").ToList();
        var expression = TorchScriptInt8Generator.ChannelCatOnRaw([.. names.Zip(channels, (name, c) => (name, (long?)c))], 1);
        Assert.NotNull(expression);
        Assert.Contains($"torch.empty([0], dtype={(int)width}).set_(", expression);
        using var scope = NewDisposeScope();
        var parts = channels.Select((c, i) => lastPartNchw && i == channels.Length - 1
            ? randint(0, 256, [3, c, 5, 4], dtype: ScalarType.Byte)
            : randint(0, 256, [3, 5, 4, c], dtype: ScalarType.Byte).permute(0, 3, 1, 2)).ToArray();
        using var compiled = jit.compile($"def cat({string.Join(", ", names.Select(n => $"{n}: Tensor"))}) -> Tensor:\n    return {expression}\n");

        var moved = (Tensor)compiled.invoke("cat", parts.Cast<object>().ToArray());

        TensorAssert.BitIdentical(cat(parts, 1), moved);
        Assert.Equal(1, moved.stride(1));
    }

    /// <summary>A plain torch.cat stays where the move gains nothing (every part 32 channels or more) or cannot be wider.</summary>
    [Theory]
    [InlineData(new long[] { 32, 64 }, 1L)]
    [InlineData(new long[] { 3, 5 }, 1L)]
    [InlineData(new long[] { 8, 0 }, 1L)]
    [InlineData(new long[] { 8, 16 }, 2L)]
    public void Channel_cat_keeps_torch_cat_where_wider_integers_do_not_apply(long[] channels, long dim)
    {
        // 0 channels: a count the graph does not fix.
        var parts = channels.Select((c, i) => ($"p{i}", c == 0 ? null : (long?)c)).ToList();

        Assert.Null(TorchScriptInt8Generator.ChannelCatOnRaw(parts, dim));
    }

    /// <summary>
    /// The fused form's concatenations of convs (issue 28): 8+16+24 channels run as an int64 cat, 12+20 as int32, 6+10 as
    /// int16, 3+5 as a plain uint8 cat; the model, and its saved archive loaded back, give the bits of the same source with
    /// every cat a plain torch.cat.
    /// </summary>
    [Fact]
    public void Fused_channel_cats_of_wider_integers_give_the_bits_of_plain_uint8_cats()
    {
        manual_seed(53);
        var v = Enumerable.Range(0, 16).Select(i => new GraphValue(i)).ToArray();
        Conv2dNode Conv(GraphValue output, string name, GraphValue input, long cin, long cout, long k) =>
            new(output, name, input, randn(cout, cin, k, k), randn(cout) * 0.1, [1, 1], [k / 2, k / 2], [1, 1], 1);
        using var graph = new ModelGraph(
        [
            new InputNode(v[0], [1, 4, 6, 6]),
            Conv(v[1], "a", v[0], 4, 8, 1), new ClampNode(v[2], v[1], 0, 6), Conv(v[3], "b", v[0], 4, 16, 3), Conv(v[4], "c", v[0], 4, 24, 1),
            new ConcatNode(v[5], [v[2], v[3], v[4]], 1),
            Conv(v[6], "d", v[5], 48, 12, 1), Conv(v[7], "e", v[5], 48, 20, 3), new ConcatNode(v[8], [v[6], v[7]], 1),
            Conv(v[9], "f", v[8], 32, 6, 1), Conv(v[10], "g", v[8], 32, 10, 3), new ConcatNode(v[11], [v[9], v[10]], 1),
            Conv(v[12], "h", v[11], 16, 3, 1), Conv(v[13], "i", v[11], 16, 5, 3), new ConcatNode(v[14], [v[12], v[13]], 1),
            new FlattenNode(v[15], v[14], 1),
        ], v[0], v[15]);
        using var inputs = randn(16, 4, 6, 6);
        using var quantized = Calibrated(graph, inputs);
        var generated = TorchScriptFusedInt8Generator.Generate(quantized);
        var lines = generated.Source.Split('\n');
        // The wide cats rewritten as torch.cat of the same parts: the source the fused form had before.
        var wideCat = new Regex(@"^(\s+u_\w+) = torch\.empty\(\[0\], dtype=0\)\.set_\(torch\.cat\(");
        var plain = generated with
        {
            Source = string.Join('\n', lines.Select(line => wideCat.Match(line) is { Success: true } m
                ? $"{m.Groups[1].Value} = torch.cat([{string.Join(", ", Regex.Matches(line, @"set_\((u_\w+)\.permute").Select(p => p.Groups[1].Value))}], 1)"
                : line)),
        };

        foreach (var engine in new[] { QEngine.X86, QEngine.OneDnn })
        {
            try
            {
                QuantizedEngine.Current = engine;
                using var wide = TorchScriptFusedInt8Model.Build(quantized, generated);
                using var reference = TorchScriptFusedInt8Model.Build(quantized, plain);
                using var expected = reference.Run(inputs);
                using var actual = wide.Run(inputs);
                // As saved by the compile stage and loaded back (LibTorch prints the source anew when it saves).
                using var loaded = TorchScriptFusedInt8Model.Load(wide.Serialize());
                using var fromLoaded = loaded.Run(inputs);
                TensorAssert.BitIdentical(expected, actual);
                TensorAssert.BitIdentical(expected, fromLoaded);
            }
            finally
            {
                QuantizedEngine.Current = QuantizedEngine.Default;
            }
        }
        output.WriteLine(generated.Source);
        foreach (var width in new[] { ScalarType.Int64, ScalarType.Int32, ScalarType.Int16 })
        {
            Assert.Single(lines, line => line.Contains($"torch.cat([torch.empty([0], dtype={(int)width}).set_(u_"));
        }
        Assert.Equal(3, lines.Count(line => wideCat.IsMatch(line)));
        Assert.Single(plain.Source.Split('\n'), line => line.Contains("torch.cat([u_h, u_i], 1)"));
        Assert.Equal(4, plain.Source.Split('\n').Count(line => line.Contains("torch.cat([u_")));
    }

    /// <summary>The uint8 values of a 4-D quantized tensor read in place are int_repr's, NHWC, from an NHWC or an NCHW tensor.</summary>
    [Fact]
    public void Raw_view_of_a_quantized_tensor_gives_the_values_of_int_repr()
    {
        manual_seed(67);
        using var compiled = jit.compile($"def raw(q: Tensor) -> Tensor:\n    return {TorchScriptInt8Generator.RawView("q")}\n");
        using var values = rand(3, 5, 4, 24) * 25 - 0.7;
        using var nhwc = quantize_per_tensor(values.permute(0, 3, 1, 2), 0.1, 7, ScalarType.QUInt8);
        using var nchw = quantize_per_tensor(values.permute(0, 3, 1, 2).contiguous(), 0.1, 7, ScalarType.QUInt8);

        foreach (var q in new[] { nhwc, nchw })
        {
            using var view = (Tensor)compiled.invoke("raw", q);
            using var copied = q.int_repr();
            TensorAssert.BitIdentical(copied, view);
            Assert.Equal(1, view.stride(1));
        }
    }

    /// <summary>
    /// The average pool on int16 sums of the uint8 values (issue 28) gives the bits of the path it replaces, on random
    /// values with even and odd zero points, on both quantized engines: the FP32 path (dequantize, avg_pool2d, quantize)
    /// for an odd divisor, LibTorch's quantized kernel for 2x2, whose ties (a quarter of all windows) round half to even.
    /// </summary>
    [Theory]
    [InlineData(24L, new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 }, true, 130L)]
    [InlineData(24L, new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 }, true, 3L)]
    [InlineData(8L, new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 0, 0 }, false, 0L)]
    [InlineData(16L, new long[] { 3, 3 }, new long[] { 2, 2 }, new long[] { 1, 1 }, true, 77L)]
    [InlineData(5L, new long[] { 1, 3 }, new long[] { 1, 1 }, new long[] { 0, 1 }, true, 255L)]
    [InlineData(24L, new long[] { 2, 2 }, new long[] { 2, 2 }, new long[] { 0, 0 }, false, 131L)]
    [InlineData(24L, new long[] { 2, 2 }, new long[] { 2, 2 }, new long[] { 0, 0 }, true, 0L)]
    public void Average_pool_on_int16_sums_gives_the_bits_of_the_path_it_replaces(
        long channels, long[] kernel, long[] stride, long[] padding, bool countIncludePad, long zeroPoint)
    {
        manual_seed(61);
        const double scale = 0.05;
        var pool = new AvgPool2dNode(new GraphValue(1), new GraphValue(0), kernel, stride, padding, countIncludePad);
        var lines = TorchScriptInt8Generator.AvgPoolOnRaw(pool, channels, zeroPoint, () => "u", "r", "t");
        Assert.NotNull(lines);
        var output = new ActivationQuantization(scale, zeroPoint, ScalarType.QUInt8, 0, 255);
        var replaced = TorchScriptInt8Generator.AvgPoolInFloat(pool, "q", output) ?? TorchScriptInt8Generator.SharedOp(pool, "q");
        Assert.Equal(kernel[0] * kernel[1] % 2 == 1, replaced.Contains("torch.dequantize(q)"));
        using var compiled = jit.compile(
            $"def pool(u: Tensor) -> Tensor:\n{string.Join("", lines.Select(line => $"    {line}\n"))}    return r\n" +
            $"def replaced(u: Tensor) -> Tensor:\n    q = torch._make_per_tensor_quantized_tensor(u, {scale}, {zeroPoint})\n    return torch.int_repr({replaced})\n");
        using var values = randint(0, 256, [4, 9, 10, channels], dtype: ScalarType.Byte).permute(0, 3, 1, 2);

        foreach (var engine in new[] { QEngine.X86, QEngine.OneDnn })
        {
            try
            {
                QuantizedEngine.Current = engine;
                using var expected = (Tensor)compiled.invoke("replaced", values);
                using var actual = (Tensor)compiled.invoke("pool", values);
                TensorAssert.BitIdentical(expected, actual);
            }
            finally
            {
                QuantizedEngine.Current = QuantizedEngine.Default;
            }
        }
    }

    /// <summary>The pools the int16 sums do not cover keep their path: 32 channels or more, a divisor neither odd nor a power of two, ceil mode, uncounted padding.</summary>
    [Fact]
    public void Average_pool_keeps_its_path_where_int16_sums_do_not_apply()
    {
        static AvgPool2dNode Pool(long[] kernel, long[] padding, bool countIncludePad = true, bool ceilMode = false) =>
            new(new GraphValue(1), new GraphValue(0), kernel, [1, 1], padding, countIncludePad, ceilMode);
        string Raw() => throw new InvalidOperationException("no uint8 values are read for a pool left on its path");

        Assert.Null(TorchScriptInt8Generator.AvgPoolOnRaw(Pool([3, 3], [1, 1]), 32, 0, Raw, "r", "t"));
        Assert.Null(TorchScriptInt8Generator.AvgPoolOnRaw(Pool([3, 3], [1, 1]), null, 0, Raw, "r", "t"));
        Assert.Null(TorchScriptInt8Generator.AvgPoolOnRaw(Pool([2, 3], [0, 0]), 8, 0, Raw, "r", "t"));
        Assert.Null(TorchScriptInt8Generator.AvgPoolOnRaw(Pool([3, 3], [0, 0], ceilMode: true), 8, 0, Raw, "r", "t"));
        Assert.Null(TorchScriptInt8Generator.AvgPoolOnRaw(Pool([3, 3], [1, 1], countIncludePad: false), 8, 0, Raw, "r", "t"));
    }

    /// <summary>
    /// The fused form's pools (issue 28): an average pool on int16 sums of the uint8 values, a strided max pool on the
    /// plain uint8 values its conv wrote; within 2 output steps of the fake-quant reference and of the converted form.
    /// </summary>
    [Fact]
    public void Pools_run_on_plain_uint8_within_two_output_steps_of_the_fake_quant_reference()
    {
        manual_seed(47);
        var v = Enumerable.Range(0, 8).Select(i => new GraphValue(i)).ToArray();
        using var graph = new ModelGraph(
        [
            new InputNode(v[0], [1, 4, 12, 12]),
            new Conv2dNode(v[1], "a", v[0], randn(24, 4, 3, 3), randn(24) * 0.1, [1, 1], [1, 1], [1, 1], 1),
            new ClampNode(v[2], v[1], 0, 6),
            new AvgPool2dNode(v[3], v[2], [3, 3], [1, 1], [1, 1], CountIncludePad: true),
            new Conv2dNode(v[4], "b", v[3], randn(8, 24, 1, 1), randn(8) * 0.1, [1, 1], [0, 0], [1, 1], 1),
            new MaxPool2dNode(v[5], v[4], [3, 3], [2, 2], [1, 1]),
            new FlattenNode(v[6], v[5], 1),
        ], v[0], v[6]);
        using var inputs = randn(16, 4, 12, 12);
        using var quantized = Calibrated(graph, inputs);
        var generated = TorchScriptFusedInt8Generator.Generate(quantized);
        using var outputs = ThreeWays.Run(quantized, inputs);
        var (actual, simulated, kernels) = outputs;

        var steps = Steps(actual, simulated, quantized);
        output.WriteLine($"{steps:F2} output steps from fake-quant, {Steps(actual, kernels, quantized):F2} from the converted form\n{generated.Source}");
        Assert.DoesNotContain("torch.max_pool2d(", generated.Source);
        // 24 channels: the average pool runs on int16 sums of the uint8 values.
        Assert.DoesNotContain("torch.avg_pool2d(", generated.Source);
        Assert.Contains("t_avgpool2d_3_q = torch.quantize_per_tensor(t_avgpool2d_3_h.to(6), 9.0, 0, 13)", generated.Source);
        Assert.True(steps <= 2, $"{steps:F2} output steps from the fake-quant reference");
        Assert.True(Steps(actual, kernels, quantized) <= 2, "more than 2 output steps from the converted form");
    }

    [Fact]
    public void Saved_archive_packs_its_weights_when_loaded_and_reproduces_the_outputs_bit_for_bit()
    {
        manual_seed(29);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default());
        using var fused = TorchScriptFusedInt8Model.Build(quantized);
        using var input = randn(8, 1, 32, 32);
        using var expected = fused.Run(input);
        var bytes = fused.Serialize();

        // Plain jit.load, no ModelOpt step: the module's __setstate__ packs the weights.
        using var plain = jit.load(bytes, DeviceType.CPU);
        using var fromPlain = (Tensor)plain.forward(input);
        using var loaded = TorchScriptFusedInt8Model.Load(bytes);
        using var fromLoaded = loaded.Run(input);

        TensorAssert.BitIdentical(expected, fromPlain);
        TensorAssert.BitIdentical(expected, fromLoaded);
        Assert.Contains("ops.onednn.qconv2d_pointwise(", loaded.Source);
    }

    [Fact]
    public void Per_tensor_weights_have_no_fused_form()
    {
        manual_seed(31);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(perChannelWeights: false), batches: 1);

        Assert.Contains("symmetric per-channel", TorchScriptFusedInt8Generator.Unsupported(quantized));
        Assert.Throws<NotSupportedException>(() => TorchScriptFusedInt8Generator.Generate(quantized));
    }

    [Fact]
    public void A_graph_with_a_layer_kept_fp32_has_no_fused_form()
    {
        manual_seed(37);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(), batches: 1, keepFloat: ["layer2.0.conv1"]);

        Assert.Contains("has no int8 oneDNN path", TorchScriptFusedInt8Generator.Unsupported(quantized));
    }

    /// <summary>The fused form's logits beside the fake-quant reference's and the converted oneDNN form's, on one input.</summary>
    private sealed record ThreeWays(Tensor Fused, Tensor Simulated, Tensor Kernels) : IDisposable
    {
        public static ThreeWays Run(QuantizedGraph quantized, Tensor inputs)
        {
            using var fused = TorchScriptFusedInt8Model.Build(quantized);
            using var converted = TorchScriptInt8Model.Build(quantized, QEngine.OneDnn);
            try
            {
                return new(fused.Run(inputs), FakeQuantizedGraphInterpreter.Run(quantized, inputs), converted.Run(inputs));
            }
            finally
            {
                QuantizedEngine.Current = QuantizedEngine.Default;
            }
        }

        public void Dispose()
        {
            Fused.Dispose();
            Simulated.Dispose();
            Kernels.Dispose();
        }
    }

    private static QuantizedGraph Calibrated(ModelGraph graph, Tensor inputs)
    {
        using var prepared = QuantizePt2e.Prepare(graph, X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [inputs]);
        return QuantizePt2e.Convert(prepared);
    }

    // Whole steps of the output's scale, rounded to a thousandth: a difference of 2 steps divides to 2.0000002 in float.
    private static double Steps(Tensor actual, Tensor expected, QuantizedGraph quantized) =>
        Math.Round((actual - expected).abs().max().item<float>() / quantized.QuantizationOf(quantized.Graph.Output).Scale, 3);

    // x: 4 channels, 8x8 -> a: 1x1 conv + ReLU6; b: 3x3 conv + ReLU6; c: max pool + 1x1 conv -> cat (14 channels) ->
    // d: 3x3 conv + ReLU6 -> cat with a max pool of x -> flatten.
    private static ModelGraph InceptionBlock()
    {
        var v = Enumerable.Range(0, 13).Select(i => new GraphValue(i)).ToArray();
        Conv2dNode Conv(GraphValue output, string name, GraphValue input, long cin, long cout, long k) =>
            new(output, name, input, randn(cout, cin, k, k), randn(cout) * 0.1, [1, 1], [k / 2, k / 2], [1, 1], 1);
        MaxPool2dNode Pool(GraphValue output, GraphValue input) => new(output, input, [3, 3], [1, 1], [1, 1]);
        return new ModelGraph(
        [
            new InputNode(v[0], [1, 4, 8, 8]),
            Conv(v[1], "a", v[0], 4, 6, 1), new ClampNode(v[2], v[1], 0, 6),
            Conv(v[3], "b", v[0], 4, 5, 3), new ClampNode(v[4], v[3], 0, 6),
            Pool(v[5], v[0]), Conv(v[6], "c", v[5], 4, 3, 1),
            new ConcatNode(v[7], [v[2], v[4], v[6]], 1),
            Conv(v[8], "d", v[7], 14, 4, 3), new ClampNode(v[9], v[8], 0, 6),
            Pool(v[10], v[0]), new ConcatNode(v[11], [v[9], v[10]], 1),
            new FlattenNode(v[12], v[11], 1),
        ], v[0], v[12]);
    }

    /// <summary>
    /// The fake-quant simulation as the fused form computes it: a conv whose clamp is fused goes into it unrounded, and
    /// a conv (or its clamp) read only by a cat is rounded to the cat's qparams.
    /// </summary>
    private static Tensor ConcatenatedSimulation(QuantizedGraph quantized, TorchScriptFusedInt8Source generated, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var graph = quantized.Graph;
        var catOf = graph.Nodes.OfType<ConcatNode>().SelectMany(cat => cat.Parts.Select(part => (part, cat))).ToDictionary(p => p.part, p => p.cat);
        bool Concatenated(GraphNode node) => node switch
        {
            Conv2dNode conv => generated.ConcatenatedConvs.Contains(conv.Name) && !generated.ClampFusedConvs.Contains(conv.Name),
            ClampNode clamp => graph.Producer(clamp.Input) is Conv2dNode conv && generated.ConcatenatedConvs.Contains(conv.Name),
            _ => false,
        };
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in graph.Nodes)
        {
            var value = node is InputNode ? input : FakeQuantizedGraphInterpreter.Evaluate(quantized, node, v => values[v]);
            values[node.Output] = node is Conv2dNode fusedConv && generated.ClampFusedConvs.Contains(fusedConv.Name)
                ? value
                : FakeQuantizedGraphInterpreter.FakeQuantize(value, quantized.QuantizationOf(Concatenated(node) ? catOf[node.Output].Output : node.Output));
        }
        return values[graph.Output].MoveToOuterDisposeScope();
    }

    /// <summary>The fake-quant simulation, except that the fused convs' outputs go into their add unrounded.</summary>
    private static Tensor FusedSimulation(QuantizedGraph quantized, IReadOnlyList<string> fusedConvs, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in quantized.Graph.Nodes)
        {
            var value = node is InputNode ? input : FakeQuantizedGraphInterpreter.Evaluate(quantized, node, v => values[v]);
            values[node.Output] = node is Conv2dNode conv && fusedConvs.Contains(conv.Name)
                ? value
                : FakeQuantizedGraphInterpreter.FakeQuantize(value, quantized.QuantizationOf(node.Output));
        }
        return values[quantized.Graph.Output].MoveToOuterDisposeScope();
    }
}

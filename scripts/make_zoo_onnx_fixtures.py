#!/usr/bin/python3
"""Writes the ONNX fixtures of issues 22 and 23 under tests/ModelOpt.Engine.Tests/TestData/onnx-zoo.

1. torchvision 0.14's 19 classification architectures, each built with torchvision's own classes at reduced width and
   depth (the classic nets without a width knob get their layer widths divided by a constant through torchvision's own
   block factories, or their layers rebuilt in the same pattern), random seeded weights with non-trivial BatchNorm
   statistics, 10 classes, eval mode, exported by torch.onnx.export at opsets 13 and 17 with constant folding and a
   dynamic batch axis. An export that fails is recorded in the manifest with the exporter's message.
2. A graph written the way other exporters (Paddle2ONNX, tf2onnx, onnx-simplifier) write it, built with onnx.helper:
   opset 11, a BGR input with dynamic height and width, normalisation arithmetic on constants, hard-swish written as
   x * Clip(x + 3, 0, 6) / 6, BatchNormalization after a Relu, a flatten written as Shape -> Cast -> Slice -> Concat ->
   Reshape, and MatMul + Add for the classifier.
3. Issue 23's models whose output is not a row of logits: a segmentation-style net (N x 1 x H x W sigmoid map, Resize and
   ConvTranspose decoder), a recognizer-style net (N x T x C) and a net with two outputs.

manifest.json names every file with its architecture, opset, input shape ([C, H, W]; null for a dynamic dimension),
output names and shapes (per image) and size in bytes. No reference outputs are stored: the C# tests run ONNX Runtime
on the same file and on inputs they draw from a seeded generator.

Run with Debian's PyTorch (python3-torch 1.13, python3-torchvision 0.14, python3-onnx 1.12):
    /usr/bin/python3 scripts/make_zoo_onnx_fixtures.py
"""
import copy
import json
import os
import sys
from functools import partial

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import TensorProto, helper, numpy_helper
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torchvision.models import (
    convnext, densenet, efficientnet, inception, mnasnet, mobilenetv2, mobilenetv3, regnet, resnet, shufflenetv2,
    swin_transformer, vgg, vision_transformer)

# torchvision.models.alexnet / googlenet name the builder functions, which shadow their modules
tv_alexnet, tv_googlenet, tv_squeezenet = (sys.modules[f"torchvision.models.{m}"] for m in ("alexnet", "googlenet", "squeezenet"))

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "ModelOpt.Engine.Tests", "TestData", "onnx-zoo")
CLASSES = 10
OPSETS = (13, 17)
# The int8 reference: PyTorch FX's int8 model of the same weights (onednn qconfig), calibrated and measured on the images
# the C# tests compute by the same formula (smooth_images).
EVALUATION_IMAGES, EVALUATION_SEED, CALIBRATION_IMAGES, CALIBRATION_SEED = 32, 22, 16, 23


# ---- 1. torchvision's classification architectures, small -------------------------------------------------------

def narrow_resnet(block, layers, divisor, **kwargs):
    """torchvision's ResNet (BasicBlock / Bottleneck, groups, width_per_group) with every stage width divided."""

    class NarrowResNet(resnet.ResNet):
        def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
            if planes == 64:
                self.inplanes = 64 // divisor  # the stem's width, set before the first stage is made
            return super()._make_layer(block, planes // divisor, blocks, stride, dilate)

    model = NarrowResNet(block, layers, num_classes=CLASSES, **kwargs)
    model.conv1 = nn.Conv2d(3, 64 // divisor, 7, 2, 3, bias=False)
    model.bn1 = nn.BatchNorm2d(64 // divisor)
    model.fc = nn.Linear(512 // divisor * block.expansion, CLASSES)
    return model


def scaled_basic_conv(divisor, conv_class):
    """A conv_block factory for torchvision's GoogLeNet / Inception3: every width divided, the RGB input kept."""
    def make(in_channels, out_channels, **kwargs):
        return conv_class(in_channels if in_channels == 3 else in_channels // divisor, out_channels // divisor, **kwargs)
    return make


def small_googlenet():
    conv = scaled_basic_conv(8, tv_googlenet.BasicConv2d)
    model = tv_googlenet.GoogLeNet(num_classes=CLASSES, aux_logits=False, transform_input=False, init_weights=True,
                                   blocks=[conv, partial(tv_googlenet.Inception, conv_block=conv), tv_googlenet.InceptionAux])
    model.fc = nn.Linear(1024 // 8, CLASSES)
    return model


def small_inception_v3():
    conv = scaled_basic_conv(16, inception.BasicConv2d)
    blocks = [conv] + [partial(b, conv_block=conv) for b in
                       (inception.InceptionA, inception.InceptionB, inception.InceptionC, inception.InceptionD, inception.InceptionE)]
    model = inception.Inception3(num_classes=CLASSES, aux_logits=False, transform_input=False, init_weights=True,
                                 inception_blocks=blocks + [inception.InceptionAux])
    model.fc = nn.Linear(2048 // 16, CLASSES)
    return model


def small_squeezenet():
    """SqueezeNet 1.1's layer pattern (torchvision's Fire modules) at a quarter of its widths."""
    model = tv_squeezenet.SqueezeNet(version="1_1", num_classes=CLASSES)
    fire = tv_squeezenet.Fire
    model.features = nn.Sequential(
        nn.Conv2d(3, 16, 3, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
        fire(16, 4, 16, 16), fire(32, 4, 16, 16), nn.MaxPool2d(3, 2, ceil_mode=True),
        fire(32, 8, 32, 32), fire(64, 8, 32, 32), nn.MaxPool2d(3, 2, ceil_mode=True),
        fire(64, 12, 48, 48), fire(96, 12, 48, 48), fire(96, 16, 64, 64), fire(128, 16, 64, 64))
    model.classifier[1] = nn.Conv2d(128, CLASSES, 1)
    return model


def small_alexnet():
    """AlexNet's layer pattern at a sixteenth of its widths (its adaptive 6 x 6 pool needs the 224 x 224 input)."""
    model = tv_alexnet.AlexNet(num_classes=CLASSES)
    model.features = nn.Sequential(
        nn.Conv2d(3, 4, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(4, 12, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(12, 24, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(24, 16, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
    model.classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(16 * 6 * 6, 64), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(64, 64), nn.ReLU(inplace=True), nn.Linear(64, CLASSES))
    return model


def small_vgg11_bn():
    """torchvision's make_layers on VGG-11's configuration "A" at a sixteenth of its widths (7 x 7 pool: 224 input)."""
    cfg = [4, "M", 8, "M", 16, 16, "M", 16, 16, "M", 16, 16, "M"]
    model = vgg.VGG(vgg.make_layers(cfg, batch_norm=True), num_classes=CLASSES)
    model.classifier = nn.Sequential(
        nn.Linear(16 * 7 * 7, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, 32), nn.ReLU(True), nn.Dropout(),
        nn.Linear(32, CLASSES))
    return model


def small_efficientnet_v2_s():
    setting = [efficientnet.FusedMBConvConfig(1, 3, 1, 8, 8, 1), efficientnet.FusedMBConvConfig(4, 3, 2, 8, 16, 2),
               efficientnet.MBConvConfig(4, 3, 2, 16, 24, 2, 1.0, 1.0)]
    return efficientnet.EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.0, num_classes=CLASSES, last_channel=64,
                                     norm_layer=partial(nn.BatchNorm2d, eps=1e-03))


def small_mobilenet_v2():
    setting = [[1, 8, 1, 1], [6, 12, 2, 2], [6, 16, 2, 2], [6, 24, 1, 1]]
    model = mobilenetv2.MobileNetV2(num_classes=CLASSES, width_mult=1.0, inverted_residual_setting=setting)
    # last_channel is fixed at 1280 in torchvision; a narrower head keeps the file small
    model.features[-1] = mobilenetv2.Conv2dNormActivation(24, 64, kernel_size=1, activation_layer=nn.ReLU6)
    model.classifier[1] = nn.Linear(64, CLASSES)
    return model


def small_mobilenet_v3(arch, blocks):
    """The first blocks of torchvision's configuration at a quarter width (ReLU and hard-swish blocks, with and without
    squeeze-excite), a 64-wide head."""
    setting, _ = mobilenetv3._mobilenet_v3_conf(arch, width_mult=0.25)
    return mobilenetv3.MobileNetV3(setting[:blocks], 64, num_classes=CLASSES)


def small_mnasnet():
    model = mnasnet.MNASNet(alpha=0.1, num_classes=CLASSES)
    # the last 1x1 conv is fixed at 1280 wide in torchvision; 64 keeps the file small
    last_in = model.layers[14].in_channels
    model.layers[14] = nn.Conv2d(last_in, 64, 1, bias=False)
    model.layers[15] = nn.BatchNorm2d(64, momentum=1 - 0.9997)
    model.classifier[1] = nn.Linear(64, CLASSES)
    return model


# name: (builder, input [C, H, W]); full-size equivalents are in scripts/bench_torchvision_zoo.py
ARCHITECTURES = {
    "resnet18": (lambda: narrow_resnet(resnet.BasicBlock, [2, 2, 2, 2], 16), [3, 32, 32]),
    "resnext50_32x4d": (lambda: narrow_resnet(resnet.Bottleneck, [1, 1, 1, 1], 16, groups=4, width_per_group=16), [3, 32, 32]),
    "mobilenet_v2": (small_mobilenet_v2, [3, 32, 32]),
    "mobilenet_v3_small": (lambda: small_mobilenet_v3("mobilenet_v3_small", 5), [3, 32, 32]),
    "mobilenet_v3_large": (lambda: small_mobilenet_v3("mobilenet_v3_large", 7), [3, 32, 32]),
    "efficientnet_b0": (lambda: efficientnet.EfficientNet(
        efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.34)[0][:5],
        dropout=0.2, stochastic_depth_prob=0.0, num_classes=CLASSES, last_channel=64), [3, 32, 32]),
    "efficientnet_v2_s": (small_efficientnet_v2_s, [3, 32, 32]),
    "regnet_y_400mf": (lambda: regnet.RegNet(
        regnet.BlockParams.from_init_params(depth=4, w_0=8, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25),
        num_classes=CLASSES, stem_width=8), [3, 32, 32]),
    "mnasnet1_0": (small_mnasnet, [3, 32, 32]),
    "shufflenet_v2_x1_0": (lambda: shufflenetv2.ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 128], num_classes=CLASSES), [3, 32, 32]),
    "squeezenet1_1": (small_squeezenet, [3, 64, 64]),
    "densenet121": (lambda: densenet.DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, bn_size=2,
                                              num_classes=CLASSES), [3, 32, 32]),
    "googlenet": (small_googlenet, [3, 32, 32]),
    "inception_v3": (small_inception_v3, [3, 75, 75]),
    "convnext_tiny": (lambda: convnext.ConvNeXt(
        [convnext.CNBlockConfig(16, 32, 1), convnext.CNBlockConfig(32, None, 1)], stochastic_depth_prob=0.0,
        num_classes=CLASSES), [3, 32, 32]),
    "swin_t": (lambda: swin_transformer.SwinTransformer(
        patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4], stochastic_depth_prob=0.0,
        num_classes=CLASSES), [3, 32, 32]),
    "vit_b_16": (lambda: vision_transformer.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=CLASSES), [3, 32, 32]),
    "alexnet": (small_alexnet, [3, 224, 224]),
    "vgg11_bn": (small_vgg11_bn, [3, 224, 224]),
}


def randomize(model, seed, shape):
    """Seeded random weights. BatchNorm statistics are those of the model's own activations on smooth random images (as
    a trained net's are of its data; random statistics make most deep nets' logits independent of the input), then its
    affine parameters and LayerNorm's are moved away from identity (so folding them is tested) and ConvNeXt's layer
    scale set at O(1) (its 1e-6 default would hide each block)."""
    torch.manual_seed(seed)
    batch_norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if batch_norms:
        for m in batch_norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches
        model.train()
        with torch.no_grad():
            for batch in range(4):
                model(smooth_images(16, shape, seed * 1000 + batch))
    elif not any(isinstance(m, nn.LayerNorm) for m in model.modules()):
        unit_variance_layers(model, smooth_images(16, shape, seed * 1000))
    model.eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand_like(m.weight) + 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.1)
            elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(torch.rand_like(m.weight) + 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.1)
            elif isinstance(m, convnext.CNBlock):
                m.layer_scale.copy_(torch.rand_like(m.layer_scale) * 0.5 + 0.25)
            elif isinstance(m, nn.Linear) and m.out_features == CLASSES:
                # torchvision initializes some classifiers at std 0.01; O(1) logits make arg-max comparisons meaningful
                m.weight.normal_(0.0, 2.0 / m.in_features ** 0.5)
    return model.eval()


def smooth_images(count, shape, seed):
    """The test images, by a formula the C# tests reproduce (ZooOnnxFixtures.Images), so PyTorch FX's int8 reference is
    measured on the very images ModelOpt is: for image n, channel c, t = n C + c + 1000 seed, row y / H, column x / W,
        sin(2 pi k1 x + 1.618 t) cos(2 pi k2 y + 0.7071 t) + 0.5 sin(2 pi (1 + t mod 3)(x + y) + 2.3 t)
        + 0.1 sin(12.9898 i + 78.233 t),   k1 = 1 + (7 t + 3) mod 4, k2 = 1 + (5 t + 1) mod 4, i the flat pixel index,
    in float64, then float32. Low frequencies differ per image: white noise would average out in a global pool and
    every image would get nearly the same logits."""
    channels, height, width = shape
    n = torch.arange(count, dtype=torch.float64).view(-1, 1, 1, 1)
    c = torch.arange(channels, dtype=torch.float64).view(1, -1, 1, 1)
    t = n * channels + c + 1000 * seed
    row = torch.arange(height, dtype=torch.float64).view(1, 1, -1, 1)
    column = torch.arange(width, dtype=torch.float64).view(1, 1, 1, -1)
    y, x, i = row / height, column / width, row * width + column
    k1, k2 = 1 + torch.remainder(7 * t + 3, 4), 1 + torch.remainder(5 * t + 1, 4)
    two_pi = 2 * np.pi
    images = (torch.sin(two_pi * k1 * x + 1.618 * t) * torch.cos(two_pi * k2 * y + 0.7071 * t)
              + 0.5 * torch.sin(two_pi * (1 + torch.remainder(t, 3)) * (x + y) + 2.3 * t)
              + 0.1 * torch.sin(12.9898 * i + 78.233 * t))
    return images.float()


def unit_variance_layers(model, images):
    """LSUV-style scaling for nets without normalization (AlexNet, SqueezeNet): each conv / linear in turn is scaled so
    its output has unit variance and zero mean on the images, as training would keep them from dying out."""
    model.eval()
    for layer in [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]:
        seen = {}
        hook = layer.register_forward_hook(lambda _m, _i, out: seen.setdefault("out", out.detach()))
        with torch.no_grad():
            model(images)
            hook.remove()
            out = seen["out"]
            channel_axes = [0] + list(range(2, out.dim()))
            layer.weight.div_(out.std() + 1e-6)
            if layer.bias is not None:
                layer.bias.sub_(out.mean(channel_axes) / (out.std() + 1e-6)).add_(0.1)


def sqnr_of_input_dependent_part(actual, reference):
    """10 log10(sum (f - mean_batch f)^2 / sum (q - f)^2): the C# tests' int8 measure (ZooOnnxChecks)."""
    signal = (reference - reference.mean(0, keepdim=True)).square().sum()
    return round(float(10 * torch.log10(signal / (actual - reference).square().sum().clamp_min(1e-30))), 2)


def fx_int8_reference(model, shape):
    """{"fx_int8_sqnr_db": [per output], "fx_int8_engine": ...} for PyTorch FX's int8 model of the same weights, or the
    reason FX failed. The onednn engine first (per-channel weights, as ModelOpt); where its kernels refuse the net,
    qnnpack (per-tensor weights, a weaker quantizer), so that the C# bound still comes from PyTorch rather than a guess."""
    images = smooth_images(EVALUATION_IMAGES, shape, EVALUATION_SEED)
    calibration = smooth_images(CALIBRATION_IMAGES, shape, CALIBRATION_SEED)
    failures = []
    for engine in ("onednn", "qnnpack"):
        torch.backends.quantized.engine = engine
        try:
            float_model = copy.deepcopy(model).eval()
            prepared = prepare_fx(copy.deepcopy(model).eval(), get_default_qconfig_mapping(engine), example_inputs=(images[:1],))
            with torch.no_grad():
                prepared(calibration)
                converted = convert_fx(prepared)
                reference, int8 = float_model(images), converted(images)
        except Exception as e:  # FX cannot trace some nets (a Proxy iterated, channels_last on a rank-2 tensor, ...)
            failures.append(f"{engine}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            if isinstance(e, torch.fx.proxy.TraceError):
                break  # tracing does not depend on the engine
            continue
        reference = reference if isinstance(reference, tuple) else (reference,)
        int8 = int8 if isinstance(int8, tuple) else (int8,)
        return {"fx_int8_sqnr_db": [sqnr_of_input_dependent_part(q, f) for q, f in zip(int8, reference)], "fx_int8_engine": engine}
    return {"fx_int8_failure": "; ".join(failures)}


def export_torch(model, path, shape, opset, input_names, output_names, dynamic):
    """torch.onnx.export with constant folding; `dynamic` maps a name to its dynamic axes."""
    example = torch.randn(1, *shape)
    torch.onnx.export(model, example, path, opset_version=opset, do_constant_folding=True,
                      input_names=input_names, output_names=output_names, dynamic_axes=dynamic)


def described(path, architecture, family, opset, input_shape, outputs, **extra):
    """The manifest entry of a written file: outputs are [name, per-image shape] with None for a dynamic dimension."""
    return {"file": os.path.basename(path), "architecture": architecture, "family": family, "opset": opset,
            "input_shape": input_shape, "outputs": [{"name": n, "shape": s} for n, s in outputs],
            "bytes": os.path.getsize(path), **extra}


def torchvision_fixtures():
    entries, failures = [], []
    for seed, (name, (build, shape)) in enumerate(ARCHITECTURES.items(), start=1):
        torch.manual_seed(seed)  # torchvision's own initialization, before randomize overwrites what it does
        model = randomize(build(), seed, shape)
        with torch.no_grad():
            probe = model(smooth_images(8, shape, seed))
        parameters = sum(p.numel() for p in model.parameters())
        spread = (probe.std(0).mean() / probe.std()).item()
        agree = (probe.argmax(1) == probe.argmax(1)[0]).float().mean().item()
        print(f"{name}: {parameters} parameters, logits {tuple(probe.shape)} std {probe.std():.3f}, "
              f"across images / overall {spread:.2f}, images sharing image 0's arg-max {agree:.2f}")
        fx = fx_int8_reference(model, shape)
        print(f"  PyTorch FX int8: {fx}")
        for opset in OPSETS:
            path = os.path.join(OUT, f"{name}_opset{opset}.onnx")
            try:
                export_torch(model, path, shape, opset, ["input"], ["logits"], {"input": {0: "N"}, "logits": {0: "N"}})
                onnx.checker.check_model(onnx.load(path))
            except Exception as e:  # the exporter's own reason is the record
                if os.path.exists(path):
                    os.remove(path)
                reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                print(f"  opset {opset}: export failed: {reason}")
                failures.append({"architecture": name, "opset": opset, "reason": reason})
                continue
            entries.append(described(path, name, "torchvision", opset, shape, [("logits", [CLASSES])],
                                     parameters=parameters, torchvision_class=next(
                                         c.__name__ for c in type(model).__mro__ if c.__module__.startswith("torchvision")), **fx))
    return entries, failures


# ---- 2. a graph as other exporters write it ----------------------------------------------------------------------

def other_exporter_graph():
    """opset 11, onnx.helper: what Paddle2ONNX / tf2onnx / onnx-simplifier outputs look like around a small CNN."""
    rng = np.random.default_rng(11)

    def const(name, array):
        return numpy_helper.from_array(np.asarray(array), name)

    def weight(name, *shape):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        return const(name, (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32))

    # Preprocessing baked into the graph: the input is BGR in [0, 255]; mean and 1/std are computed from constants.
    mean_bgr = np.array([103.53, 116.28, 123.675], np.float32).reshape(1, 3, 1, 1)
    std_bgr = np.array([57.375, 57.12, 58.395], np.float32).reshape(1, 3, 1, 1)
    initializers = [
        const("mean", mean_bgr), const("std", std_bgr), const("one", np.array(1.0, np.float32)),
        weight("conv1.w", 16, 3, 3, 3), const("conv1.b", (rng.standard_normal(16) * 0.1).astype(np.float32)),
        const("three", np.array(3.0, np.float32)), const("zero", np.array(0.0, np.float32)),
        const("six", np.array(6.0, np.float32)),
        weight("dw.w", 16, 1, 3, 3),
        const("bn.scale", (rng.random(16) + 0.5).astype(np.float32)), const("bn.bias", (rng.standard_normal(16) * 0.1).astype(np.float32)),
        const("bn.mean", (rng.standard_normal(16) * 0.1).astype(np.float32)), const("bn.var", (rng.random(16) + 0.5).astype(np.float32)),
        weight("conv2.w", 32, 16, 1, 1), const("conv2.b", np.zeros(32, np.float32)),
        const("slice.starts", np.array([0], np.int64)), const("slice.ends", np.array([1], np.int64)),
        const("slice.axes", np.array([0], np.int64)), const("minus_one", np.array([-1], np.int64)),
        weight("fc.w.t", 32, CLASSES),  # MatMul's weight is (in, out), as tf2onnx writes a Dense layer
        const("fc.b", (rng.standard_normal(CLASSES) * 0.1).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("Reciprocal", ["std"], ["inv_std"], name="inv_std"),               # arithmetic on constants
        helper.make_node("Sub", ["image", "mean"], ["centered"], name="normalize_sub"),
        helper.make_node("Mul", ["centered", "inv_std"], ["normalized"], name="normalize_mul"),
        helper.make_node("Conv", ["normalized", "conv1.w", "conv1.b"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        # hard-swish as x * Clip(x + 3, 0, 6) / 6 (opset 11: Clip's bounds are inputs)
        helper.make_node("Add", ["c1", "three"], ["c1_plus3"], name="hswish_add"),
        helper.make_node("Clip", ["c1_plus3", "zero", "six"], ["c1_clip"], name="hswish_clip"),
        helper.make_node("Mul", ["c1", "c1_clip"], ["c1_mul"], name="hswish_mul"),
        helper.make_node("Div", ["c1_mul", "six"], ["h1"], name="hswish_div"),
        helper.make_node("Conv", ["h1", "dw.w"], ["dw"], name="conv_dw", kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=16),
        helper.make_node("Relu", ["dw"], ["dw_relu"], name="dw_relu"),
        # BatchNormalization after the Relu, not right after a conv (Keras' Conv -> ReLU -> BN order)
        helper.make_node("BatchNormalization", ["dw_relu", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["bn"], name="bn",
                         epsilon=1e-3),
        helper.make_node("Conv", ["bn", "conv2.w", "conv2.b"], ["c2"], name="conv2", kernel_shape=[1, 1]),
        helper.make_node("Relu", ["c2"], ["c2_relu"], name="conv2_relu"),
        helper.make_node("GlobalAveragePool", ["c2_relu"], ["pooled"], name="gap"),
        # flatten as Shape -> Cast -> Slice -> Concat -> Reshape
        helper.make_node("Shape", ["pooled"], ["pooled_shape"], name="flatten_shape"),
        helper.make_node("Cast", ["pooled_shape"], ["pooled_shape_i64"], name="flatten_cast", to=TensorProto.INT64),
        helper.make_node("Slice", ["pooled_shape_i64", "slice.starts", "slice.ends", "slice.axes"], ["batch"], name="flatten_slice"),
        helper.make_node("Concat", ["batch", "minus_one"], ["flat_shape"], name="flatten_concat", axis=0),
        helper.make_node("Reshape", ["pooled", "flat_shape"], ["flat"], name="flatten_reshape"),
        helper.make_node("MatMul", ["flat", "fc.w.t"], ["fc"], name="fc_matmul"),
        helper.make_node("Add", ["fc", "fc.b"], ["logits"], name="fc_add"),
    ]
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])
    image.doc_string = "BGR image, channel order B, G, R, values 0-255 (OpenCV's cv2.imread); any height and width"
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", CLASSES])
    graph = helper.make_graph(nodes, "other_exporter_cnn", [image], [logits], initializers)
    model = helper.make_model(graph, producer_name="make_zoo_onnx_fixtures (as Paddle2ONNX / tf2onnx write it)",
                              opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(OUT, "other_exporter_bgr_dynamic_hw_opset11.onnx")
    onnx.save(model, path)
    return described(path, "other_exporter_cnn", "other_exporter", 11, [3, None, None], [("logits", [CLASSES])],
                     channel_order="bgr", pixel_range=[0, 255], test_input_shape=[3, 48, 64])


# ---- 3. issue 23: outputs that are not logits --------------------------------------------------------------------

class SegmentationNet(nn.Module):
    """A text-detector-like net: conv encoder (stride 8), a ConvTranspose and a bilinear Resize decoder, a sigmoid map."""

    def __init__(self):
        super().__init__()
        def block(cin, cout, stride):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
        self.enc1, self.enc2, self.enc3 = block(3, 8, 2), block(8, 16, 2), block(16, 32, 2)
        self.up1 = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.fuse = block(32, 16, 1)
        self.head = nn.Conv2d(16, 1, 3, padding=1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = self.fuse(torch.cat([F.relu(self.up1(e3)), e2], 1))
        d1 = F.interpolate(d2, scale_factor=4.0, mode="bilinear", align_corners=False)
        return torch.sigmoid(self.head(d1))


class RecognizerNet(nn.Module):
    """A CRNN-like recognizer without the RNN: a conv backbone, height collapsed, a sequence N x T x C of class scores."""

    def __init__(self, classes=37):
        super().__init__()
        def block(cin, cout, pool):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.MaxPool2d(pool, pool))
        self.backbone = nn.Sequential(block(1, 16, (2, 2)), block(16, 32, (2, 2)), block(32, 48, (2, 1)), block(48, 64, (2, 1)))
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        f = self.backbone(x)            # N x 64 x 2 x W/4
        f = f.mean(2)                   # N x 64 x T
        f = f.permute(0, 2, 1)          # N x T x 64
        return self.classifier(f)       # N x T x classes


class TwoHeadNet(nn.Module):
    """One backbone, two outputs: class logits (N x 10) and a box (N x 4), as detectors and multi-task nets write them."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.logits = nn.Linear(32, CLASSES)
        self.box = nn.Linear(32, 4)

    def forward(self, x):
        f = self.backbone(x)
        return self.logits(f), torch.sigmoid(self.box(f))


def any_output_fixtures():
    entries = []
    specs = [
        ("segmentation_net", SegmentationNet, [3, 32, 48], ["probability_map"], [[1, 32, 48]],
         {"probability_map": {0: "N"}}, None),
        ("recognizer_net", RecognizerNet, [1, 32, 64], ["sequence_logits"], [[16, 37]], {"sequence_logits": {0: "N"}}, -1),
        ("two_output_net", TwoHeadNet, [3, 32, 32], ["logits", "box"], [[CLASSES], [4]], {"logits": {0: "N"}, "box": {0: "N"}}, None),
    ]
    for seed, (name, cls, shape, output_names, output_shapes, dynamic_outputs, class_axis) in enumerate(specs, start=101):
        torch.manual_seed(seed)
        model = randomize(cls(), seed, shape)
        with torch.no_grad():
            outputs = model(torch.randn(2, *shape))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        assert [list(o.shape[1:]) for o in outputs] == output_shapes, (name, [o.shape for o in outputs])
        path = os.path.join(OUT, f"{name}_opset13.onnx")
        export_torch(model, path, shape, 13, ["input"], output_names, {"input": {0: "N"}, **dynamic_outputs})
        onnx.checker.check_model(onnx.load(path))
        extra = {"class_axis": class_axis} if class_axis is not None else {}
        extra.update(fx_int8_reference(model, shape))
        entries.append(described(path, name, "any_output", 13, shape, list(zip(output_names, output_shapes)), **extra))
        print(f"{name}: outputs {[tuple(o.shape) for o in outputs]}")
    return entries


def main():
    os.makedirs(OUT, exist_ok=True)
    for stale in os.listdir(OUT):
        if stale.endswith(".onnx"):
            os.remove(os.path.join(OUT, stale))
    torch.manual_seed(0)
    zoo, failures = torchvision_fixtures()
    files = zoo + [other_exporter_graph()] + any_output_fixtures()
    manifest = {
        "torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__,
        "classes": CLASSES,
        "test_images": {"evaluation": EVALUATION_IMAGES, "calibration": CALIBRATION_IMAGES},
        "files": files,
        "export_failures": failures,
        "total_bytes": sum(f["bytes"] for f in files),
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    for entry in files:
        print(f"{entry['file']:48s} {entry['bytes']:>9d} bytes")
    print(f"total {manifest['total_bytes']} bytes in {len(files)} files; {len(failures)} exports failed")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes tests/ModelOpt.Engine.Tests/TestData/references/: what real PyTorch computes for the quantization ModelOpt does.

1. Observer qparams (torch.ao.quantization observers) on seeded tensors written beside them as raw float32:
   MinMaxObserver, MovingAverageMinMaxObserver, HistogramObserver (its _non_linear_param_search, on one batch binned
   over its true range: see FirstBatchHistogramObserver) and PerChannelMinMaxObserver, with ModelOpt's two schemes: uint8 [0, 255] affine (and symmetric) per-tensor activations,
   int8 [-128, 127] symmetric weights (per-channel on axis 0, and per-tensor); eps 2^-12 as ModelOpt's x86 recipe.
2. FX post-training quantization (prepare_fx / convert_fx) of the PyTorch-written fixtures resnet20_1ch_random.pth
   and ../shared/fixtures/resnet18_cifar_3ch_random.pth with the qconfig of ModelOpt's default recipe
   (HistogramObserver activations, PerChannelMinMaxObserver weights, as above), calibrated on one batch of the first 32
   Fashion-MNIST training images, then run on the first 32 test images (both written beside it, preprocessed as
   ModelOpt does: /255, bilinear 28 -> 32 without antialias, (x - 0.5) / 0.5; repeated to 3 channels for resnet18).
   Records the int8 logits, the FP32 logits, each conv / linear output's qparams, weight scales and a checksum of its
   int8 weights (BatchNorm folded, per-channel quantized), and resnet20's int8 weights in one file, each layer at its
   offset.

Run with Debian's PyTorch: /usr/bin/python3 scripts/make_quantization_references.py
"""
import gzip
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.ao.quantization import (HistogramObserver, MinMaxObserver, MovingAverageMinMaxObserver,
                                   PerChannelMinMaxObserver, QConfig, QConfigMapping)
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torchvision.models.resnet import BasicBlock

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TEST_DATA = os.path.join(ROOT, "tests", "ModelOpt.Engine.Tests", "TestData")
OUT = os.path.join(TEST_DATA, "references")
FMNIST = "/usr/share/datasets/fashion-mnist"
EPS = 2.0 ** -12  # X86InductorQuantizer.Eps

UINT8_AFFINE = dict(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=0, quant_max=255)
# Without an explicit range: PyTorch then gives symmetric quint8 zero point 128, as ModelOpt does (ADR-003); given
# quant_min=0, quant_max=255 it counts the range as customized and answers 127.
UINT8_SYMMETRIC = dict(dtype=torch.quint8, qscheme=torch.per_tensor_symmetric)
INT8_SYMMETRIC = dict(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=-128, quant_max=127)
INT8_PER_CHANNEL = dict(dtype=torch.qint8, qscheme=torch.per_channel_symmetric, quant_min=-128, quant_max=127, ch_axis=0)
SPECS = {"uint8_affine": UINT8_AFFINE, "uint8_symmetric": UINT8_SYMMETRIC,
         "int8_symmetric": INT8_SYMMETRIC, "int8_per_channel_symmetric": INT8_PER_CHANNEL}


class FirstBatchHistogramObserver(HistogramObserver):
    """PyTorch 1.13's HistogramObserver, binning over the true range.

    1.13 passes int(min_val) and int(max_val) to torch.histc (pytorch/pytorch#83672, since fixed), so values outside
    the truncated range are dropped from the histogram the search then reads as spanning [min_val, max_val]. Here
    every tensor is binned over [min_val, max_val] as upstream does now; the search (_non_linear_param_search,
    _compute_quantization_error) is 1.13's own. A tensor within the range adds its counts, as in 1.13 (FX feeds the
    pooled and flattened outputs to the observer of their input); one that widens the range would need 1.13's
    re-binning, which has the same truncation and which PyTorch has since replaced, so it is refused.
    """

    def forward(self, x_orig):
        x = x_orig.detach()
        min_val, max_val = torch.aminmax(x)
        if bool(self.min_val == float("inf")):
            self.min_val.resize_(min_val.shape).copy_(min_val)
            self.max_val.resize_(max_val.shape).copy_(max_val)
            torch.histc(x, self.bins, min=float(min_val), max=float(max_val), out=self.histogram)
        elif self.min_val <= min_val and max_val <= self.max_val:
            self.histogram += torch.histc(x, self.bins, min=float(self.min_val), max=float(self.max_val))
        else:
            raise ValueError("FirstBatchHistogramObserver cannot widen its range")
        return x_orig


OBSERVERS = {"minmax": MinMaxObserver, "moving_average_minmax": MovingAverageMinMaxObserver,
             "histogram": FirstBatchHistogramObserver, "per_channel_minmax": PerChannelMinMaxObserver}


def write_f32(name, tensor):
    tensor.contiguous().numpy().astype("<f4").tofile(os.path.join(OUT, name))
    return name


def activation_batches():
    """Four batches of 4x8x8x8 whose range grows from batch to batch (the histogram is re-binned), with a few outliers."""
    g = torch.Generator().manual_seed(1301)
    batches = []
    for k in range(4):
        x = torch.randn(4, 8, 8, 8, generator=g) * (1 + 0.25 * k) + 0.5
        x.view(-1)[[7, 300, 1500]] = torch.tensor([6.0 + k, -3.0 - 0.5 * k, 9.0 + 2 * k])
        batches.append(x)
    return torch.stack(batches)


def weight_tensor():
    """A conv weight 16x8x3x3, channel c scaled by 0.05 (c + 1), channel 3 all zero (its scale is eps)."""
    g = torch.Generator().manual_seed(1302)
    w = torch.randn(16, 8, 3, 3, generator=g) * (0.05 * torch.arange(1, 17, dtype=torch.float32)).view(16, 1, 1, 1)
    w[3] = 0
    return w


def observer_case(observer, spec, tensor_name, stacked, batches):
    """The qparams of one observer fed stacked[i] for each i in batches, in order."""
    obs = OBSERVERS[observer](eps=EPS, **SPECS[spec])
    for i in batches:
        obs(stacked[i])
    scale, zero_point = obs.calculate_qparams()
    return {"observer": observer, "spec": spec, "tensor": tensor_name, "batches": batches,
            "scale": [float(s) for s in scale.reshape(-1)], "zero_point": [int(z) for z in zero_point.reshape(-1)]}


def observers():
    acts = activation_batches()
    weights = weight_tensor().unsqueeze(0)
    tensors = {
        "activations": {"file": write_f32("observer_activations_4x4x8x8x8.f32", acts), "shape": list(acts.shape)},
        "weights": {"file": write_f32("observer_weights_1x16x8x3x3.f32", weights), "shape": list(weights.shape)},
    }
    cases = [
        observer_case("minmax", "uint8_affine", "activations", acts, [0, 1, 2, 3]),
        observer_case("minmax", "uint8_symmetric", "activations", acts, [0, 1, 2, 3]),
        observer_case("moving_average_minmax", "uint8_affine", "activations", acts, [0, 1, 2, 3]),
        observer_case("histogram", "uint8_affine", "activations", acts, [0]),
        observer_case("histogram", "uint8_affine", "activations", acts, [2]),
        observer_case("minmax", "int8_symmetric", "weights", weights, [0]),
        observer_case("per_channel_minmax", "int8_per_channel_symmetric", "weights", weights, [0]),
    ]
    return {"tensors": tensors, "cases": cases}


class ResNet20(nn.Module):
    """ModelOpt's resnet20 with torchvision's names: 3x3 stem, stages of 16/32/64, 1x1 conv + BN shortcuts."""

    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        planes, layers = 16, []
        for stage, width in enumerate([16, 32, 64]):
            blocks = []
            for b in range(3):
                stride = 2 if stage > 0 and b == 0 else 1
                downsample = None
                if stride != 1 or planes != width:
                    downsample = nn.Sequential(nn.Conv2d(planes, width, 1, stride, bias=False), nn.BatchNorm2d(width))
                blocks.append(BasicBlock(planes, width, stride, downsample))
                planes = width
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def fashion_mnist(images_file, count):
    with gzip.open(os.path.join(FMNIST, images_file)) as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[:count]
    x = torch.from_numpy(data.astype(np.float32) / 255.0)
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False, antialias=False)
    return (x - 0.5) / 0.5


def torchvision_resnet18_cifar():
    """The notebook's model: torchvision resnet18 with a 3x3 stride-1 stem and no max pool (ModelOpt's resnet18-cifar)."""
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    return model


def weight_checksum(int8):
    """sum of w[i] * (i % 8191 + 1) over the flat int8 weight: any changed or moved value changes it."""
    flat = int8.reshape(-1).to(torch.int64)
    return int((flat * (torch.arange(flat.numel()) % 8191 + 1)).sum())


def fx_reference(model, checkpoint, channels, calibration, test, weights_file=None):
    """FX PTQ of one fixture; the 1-channel images are repeated to the model's channels, as ModelOpt's tests do."""
    model.load_state_dict(torch.load(checkpoint))
    model.eval()
    calibration_images = calibration.repeat(1, channels, 1, 1)
    test_images = test.repeat(1, channels, 1, 1)
    with torch.no_grad():
        fp32 = model(test_images)
    qconfig = QConfig(activation=FirstBatchHistogramObserver.with_args(eps=EPS, reduce_range=False, **UINT8_AFFINE),
                      weight=PerChannelMinMaxObserver.with_args(eps=EPS, **INT8_PER_CHANNEL))
    # Debian's PyTorch has no fbgemm / x86 engine; oneDNN takes full-range uint8 activations as ModelOpt's kernels do.
    torch.backends.quantized.engine = "onednn"
    prepared = prepare_fx(model, QConfigMapping().set_global(qconfig), example_inputs=(calibration_images[:1],))
    with torch.no_grad():
        prepared(calibration_images)
        converted = convert_fx(prepared)
        int8 = converted(test_images)
    layers, weights = {}, []
    offset = 0
    for name, m in converted.named_modules():
        if isinstance(m, (torch.ao.nn.quantized.Conv2d, torch.ao.nn.quantized.Linear)):
            w = m.weight()
            layers[name] = {"scale": float(m.scale), "zero_point": int(m.zero_point),
                            "weight_scales": [float(v) for v in w.q_per_channel_scales()],
                            "weight_shape": list(w.shape), "weight_offset": offset,
                            "weight_checksum": weight_checksum(w.int_repr())}
            weights.append(w.int_repr().reshape(-1).numpy())
            offset += w.numel()
    if weights_file:
        np.concatenate(weights).astype(np.int8).tofile(os.path.join(OUT, weights_file))
    return {
        "checkpoint": os.path.basename(checkpoint),
        "channels": channels,
        "engine": torch.backends.quantized.engine,
        "fp32_logits": [[round(float(v), 6) for v in row] for row in fp32],
        "int8_logits": [[round(float(v), 6) for v in row] for row in int8],
        "layers": layers,
        "int8_weights": weights_file,
    }


def fx_references():
    calibration = fashion_mnist("train-images-idx3-ubyte.gz", 32)
    test = fashion_mnist("t10k-images-idx3-ubyte.gz", 32)
    # The 45 MB resnet18 fixture is not in the repository (see /work/shared/fixtures/README.md).
    shared = os.path.join(ROOT, "..", "shared", "fixtures", "resnet18_cifar_3ch_random.pth")
    return {
        "calibration": {"file": write_f32("fmnist_train_first32_32x1x32x32.f32", calibration), "shape": list(calibration.shape)},
        "input": {"file": write_f32("fmnist_test_first32_32x1x32x32.f32", test), "shape": list(test.shape)},
        "models": {
            "resnet20": fx_reference(ResNet20(), os.path.join(TEST_DATA, "resnet20_1ch_random.pth"), 1, calibration, test,
                                     weights_file="fx_resnet20_int8_weights.i8"),
            "resnet18-cifar": fx_reference(torchvision_resnet18_cifar(), shared, 3, calibration, test),
        },
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(2)
    references = {"torch": torch.__version__, "eps": EPS, "observers": observers(), "fx": fx_references()}
    with open(os.path.join(OUT, "quantization_references.json"), "w") as f:
        json.dump(references, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

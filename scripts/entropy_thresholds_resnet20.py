#!/usr/bin/python3
"""Per-node entropy (TensorRT KL) ranges of a ModelOpt-trained resnet20, computed by PyTorch and numpy alone, beside the
ranges ModelOpt int8 checkpoints of the same model hold (one column each, e.g. histogram, entropy before and after a
change): which nodes the entropy observer clips, and whether the reference algorithm clips them the same way.

PyTorch runs the checkpoint (eval mode) on the first IMAGES (default 128) Fashion-MNIST training images, preprocessed as ModelOpt's
calibration does, and records every activation ModelOpt quantizes: the input, each conv (+ ReLU where fused), each
add + ReLU and the fc output. Each gets make_entropy_references.optimal_threshold (the independent numpy reference),
mapped as ModelOpt maps it: [max(min, -T), min(max, T)]. Ranges from the int8 checkpoints are (0 - zero_point) * scale
and (255 - zero_point) * scale, so they differ from the clipped range by up to half a step. Then the top-1 on the first
TEST_IMAGES (default 1000) test images with only the activations fake-quantized: at the reference ranges, at each
checkpoint's ranges, and at the reference ranges with each node in turn at its observed [min, max] instead (what that
node's clipping costs).

Run: [IMAGES=128] /usr/bin/python3 scripts/entropy_thresholds_resnet20.py MODEL-FP32.pth MODEL-INT8.safetensors...
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch

from make_entropy_references import optimal_threshold
from make_quantization_references import FMNIST, ResNet20, fashion_mnist


def modelopt_ranges(safetensors):
    with open(safetensors, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    activations = json.loads(header["__metadata__"]["activations"])
    return [(a["producer"], -a["zero_point"] * a["scale"], (255 - a["zero_point"]) * a["scale"]) for a in activations]


def forward(model, images, activation):
    """resnet20's forward with activation(x) applied to every value ModelOpt quantizes, in ModelOpt's order: the input,
    conv1, then each block's conv1, conv2, downsample and add, then fc."""
    x = activation(images)
    x = activation(model.relu(model.bn1(model.conv1(x))))
    for layer in (model.layer1, model.layer2, model.layer3):
        for block in layer:
            out = activation(block.relu(block.bn1(block.conv1(x))))
            out = activation(block.bn2(block.conv2(out)))
            identity = x if block.downsample is None else activation(block.downsample(x))
            x = activation(block.relu(out + identity))
    return activation(model.fc(torch.flatten(model.avgpool(x), 1)))


def fake_quantized(ranges):
    """An activation hook that quantize-dequantizes the k-th value it sees as uint8 affine over ranges[k]."""
    seen = iter(ranges)

    def quantize(x):
        lo, hi = next(seen)
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        scale = (hi - lo) / 255
        zero_point = round(-lo / scale)
        return (torch.clamp(torch.round(x / scale) + zero_point, 0, 255) - zero_point) * scale
    return quantize


def test_labels(count):
    with gzip.open(os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz")) as f:
        return torch.from_numpy(np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:count].astype(np.int64))


def main():
    checkpoint, checkpoints = sys.argv[1], sys.argv[2:]
    count = int(os.environ.get("IMAGES", "128"))
    tested = int(os.environ.get("TEST_IMAGES", "1000"))
    torch.set_num_threads(2)
    model = ResNet20()
    model.load_state_dict(torch.load(checkpoint))
    model.eval()
    activations = []
    with torch.no_grad():
        forward(model, fashion_mnist("train-images-idx3-ubyte.gz", count), lambda x: activations.append(x) or x)
    columns = [modelopt_ranges(path) for path in checkpoints]
    for path, ranges in zip(checkpoints, columns):
        if len(ranges) != len(activations):
            raise SystemExit(f"{path}: {len(ranges)} activations, {len(activations)} recorded here")
    print("| node | observed (PyTorch) | reference entropy | T / max abs | " + " | ".join(checkpoints) + " |")
    print("|---" * (4 + len(checkpoints)) + "|")
    entropy, observed = [], []
    for k, values in enumerate(activations):
        r = optimal_threshold(values.numpy().reshape(-1).astype(np.float32))
        t = r["threshold"]
        entropy.append((max(r["min"], -t), min(r["max"], t)))
        observed.append((r["min"], r["max"]))
        cells = [f"[{lo:.3f}, {hi:.3f}]" for _, lo, hi in (ranges[k] for ranges in columns)]
        print(f"| {columns[0][k][0] if columns else k} | [{r['min']:.3f}, {r['max']:.3f}] | [{entropy[k][0]:.3f}, {entropy[k][1]:.3f}] "
              f"| {t / r['abs_max']:.3f} | " + " | ".join(cells) + " |")

    # Top-1 with only the activations fake-quantized (FP32 weights): the reference ranges, the observed ones, and the
    # reference ranges with one node at a time given its observed range instead (the cost of clipping that node).
    images, labels = fashion_mnist("t10k-images-idx3-ubyte.gz", tested), test_labels(tested)

    def top1(activation):
        with torch.no_grad():
            return 100.0 * float((forward(model, images, activation).argmax(1) == labels).float().mean())
    print(f"\nactivation-only fake quantization, first {tested} test images: FP32 {top1(lambda x: x):.2f} %, "
          f"observed ranges {top1(fake_quantized(observed)):.2f} %, reference entropy ranges {top1(fake_quantized(entropy)):.2f} %")
    for path, ranges in zip(checkpoints, columns):
        print(f"  the ranges of {path}: {top1(fake_quantized([(lo, hi) for _, lo, hi in ranges])):.2f} %")
    for k in range(len(entropy)):
        ranges = entropy[:k] + [observed[k]] + entropy[k + 1:]
        print(f"  node {k} ({columns[0][k][0] if columns else k}) at its observed range: {top1(fake_quantized(ranges)):.2f} %")


if __name__ == "__main__":
    main()

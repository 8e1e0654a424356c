#!/usr/bin/python3
"""Per-node entropy (TensorRT KL) ranges of a ModelOpt-trained resnet20, computed by PyTorch and numpy alone, beside the
ranges ModelOpt int8 checkpoints of the same model hold (one column each, e.g. histogram, entropy before and after a
change): which nodes the entropy observer clips, and whether the reference algorithm clips them the same way.

PyTorch runs the checkpoint (eval mode) on the first IMAGES (default 128) Fashion-MNIST training images, preprocessed as ModelOpt's
calibration does, and records every activation ModelOpt quantizes: the input, each conv (+ ReLU where fused), each
add + ReLU and the fc output. Each gets make_entropy_references.optimal_threshold (the independent numpy reference),
mapped as ModelOpt maps it: [max(min, -T), min(max, T)]. Ranges from the int8 checkpoint are (0 - zero_point) * scale
and (255 - zero_point) * scale, so they differ from the clipped range by up to half a step.

Run: [IMAGES=128] /usr/bin/python3 scripts/entropy_thresholds_resnet20.py MODEL-FP32.pth MODEL-INT8.safetensors...
"""
import json
import os
import struct
import sys

import numpy as np
import torch

from make_entropy_references import optimal_threshold
from make_quantization_references import ResNet20, fashion_mnist


def modelopt_ranges(safetensors):
    with open(safetensors, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    activations = json.loads(header["__metadata__"]["activations"])
    return [(a["producer"], -a["zero_point"] * a["scale"], (255 - a["zero_point"]) * a["scale"]) for a in activations]


def reference_activations(model, images):
    """The quantized activations in ModelOpt's order: input, then each block's conv1, conv2, downsample, add, then fc."""
    values = [images]
    x = model.relu(model.bn1(model.conv1(images)))
    values.append(x)
    for layer in (model.layer1, model.layer2, model.layer3):
        for block in layer:
            out = block.relu(block.bn1(block.conv1(x)))
            values.append(out)
            out = block.bn2(block.conv2(out))
            values.append(out)
            identity = x
            if block.downsample is not None:
                identity = block.downsample(x)
                values.append(identity)
            x = block.relu(out + identity)
            values.append(x)
    values.append(model.fc(torch.flatten(model.avgpool(x), 1)))
    return values


def main():
    checkpoint, checkpoints = sys.argv[1], sys.argv[2:]
    count = int(os.environ.get("IMAGES", "128"))
    torch.set_num_threads(2)
    model = ResNet20()
    model.load_state_dict(torch.load(checkpoint))
    model.eval()
    with torch.no_grad():
        activations = reference_activations(model, fashion_mnist("train-images-idx3-ubyte.gz", count))
    columns = [modelopt_ranges(path) for path in checkpoints]
    for path, ranges in zip(checkpoints, columns):
        if len(ranges) != len(activations):
            raise SystemExit(f"{path}: {len(ranges)} activations, {len(activations)} recorded here")
    print("| node | observed (PyTorch) | reference entropy | T / max abs | " + " | ".join(checkpoints) + " |")
    print("|---" * (4 + len(checkpoints)) + "|")
    for k, values in enumerate(activations):
        r = optimal_threshold(values.numpy().reshape(-1).astype(np.float32))
        t = r["threshold"]
        cells = [f"[{lo:.3f}, {hi:.3f}]" for _, lo, hi in (ranges[k] for ranges in columns)]
        print(f"| {columns[0][k][0]} | [{r['min']:.3f}, {r['max']:.3f}] | [{max(r['min'], -t):.3f}, {min(r['max'], t):.3f}] "
              f"| {t / r['abs_max']:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes tests/ModelOpt.Engine.Tests/TestData/torchvision/expected.json with real torchvision models.

For each zoo architecture (torchvision resnet18/34/50 and mobilenet_v2, ImageNet and CIFAR stems) it records the
state_dict's names and shapes as torchvision writes them and PyTorch's eval-mode logits on the committed uniform inputs,
with every tensor filled by a formula the C# tests reproduce (weights of tens of MB need not be committed):
    base[t][i] = sin(0.7071 i + 1.618 t) in float64, t = the tensor's position in the state_dict, i = flat index;
    running_var 1 + 0.25 base, running_mean 0.1 base, 1-d weight 1 + 0.2 base, 1-d bias 0.1 base,
    n-d weight base * sqrt(2 / fan_in), num_batches_tracked 0.

Run with Debian's PyTorch: /usr/bin/python3 scripts/make_torchvision_fixtures.py
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision

DATA = os.path.join(os.path.dirname(__file__), "..", "tests", "ModelOpt.Engine.Tests", "TestData")


def formula_value(key, shape, t):
    n = int(np.prod(shape)) if shape else 1
    base = torch.sin(torch.arange(n, dtype=torch.float64) * 0.7071 + 1.618 * t).reshape(shape)
    if key.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=torch.int64)
    if key.endswith("running_var"):
        return (1 + 0.25 * base).float()
    if key.endswith("running_mean"):
        return (0.1 * base).float()
    if len(shape) == 1:
        return ((1 + 0.2 * base) if key.endswith("weight") else 0.1 * base).float()
    return (base * math.sqrt(2.0 / (n / shape[0]))).float()


def cifar_resnet(factory, channels, classes):
    model = factory(num_classes=classes)
    model.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    return model


def imagenet_resnet(factory, channels, classes):
    model = factory(num_classes=classes)
    model.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    return model


def mobilenet(channels, classes, stride):
    model = torchvision.models.mobilenet_v2(num_classes=classes)
    model.features[0][0] = nn.Conv2d(channels, 32, 3, stride, 1, bias=False)
    return model


def main():
    models = {
        "resnet18": (3, 10, lambda c, k: imagenet_resnet(torchvision.models.resnet18, c, k)),
        "resnet34": (1, 10, lambda c, k: imagenet_resnet(torchvision.models.resnet34, c, k)),
        "resnet50": (3, 7, lambda c, k: imagenet_resnet(torchvision.models.resnet50, c, k)),
        "mobilenet_v2": (3, 10, lambda c, k: mobilenet(c, k, 2)),
        "resnet34-cifar": (1, 10, lambda c, k: cifar_resnet(torchvision.models.resnet34, c, k)),
        "resnet50-cifar": (3, 10, lambda c, k: cifar_resnet(torchvision.models.resnet50, c, k)),
        "mobilenet_v2-cifar": (1, 10, lambda c, k: mobilenet(c, k, 1)),
    }
    expected = {"torch": torch.__version__, "torchvision": torchvision.__version__, "models": {}}
    for name, (channels, classes, build) in models.items():
        model = build(channels, classes).eval()
        state = model.state_dict()
        with torch.no_grad():
            for t, (key, tensor) in enumerate(state.items()):
                tensor.copy_(formula_value(key, list(tensor.shape), t))
        inputs_file = f"input_uniform_4x{channels}x32x32.f32"
        inputs = torch.from_numpy(np.fromfile(os.path.join(DATA, inputs_file), dtype="<f4").reshape(4, channels, 32, 32))
        with torch.no_grad():
            logits = model(inputs)
        expected["models"][name] = {
            "input_channels": channels,
            "classes": classes,
            "inputs": inputs_file,
            "state_dict": [[key, list(tensor.shape)] for key, tensor in state.items()],
            "logits": [[round(v, 6) for v in row] for row in logits.tolist()],
        }
        print(name, "entries", len(state), "logit range", float(logits.min()), float(logits.max()))
    os.makedirs(os.path.join(DATA, "torchvision"), exist_ok=True)
    with open(os.path.join(DATA, "torchvision", "expected.json"), "w") as f:
        json.dump(expected, f, indent=None, separators=(",", ":"))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Exports torchvision 0.14's classification architectures at FULL size for scripts/bench-torchvision-zoo.sh (issue 22).

Each model is torchvision's own builder with random seeded weights (torchvision's initialization) and 10 classes, in
eval mode, exported by torch.onnx.export at opset 13 with constant folding and a dynamic batch axis, at 224 x 224
(299 x 299 for inception_v3; vit_b_16 is the full 12-layer model). Nothing is committed: the files go to OUT_DIR.
Prints one line per model: name, file, input side, size in MB, or the exporter's reason when the export fails.

    /usr/bin/python3 scripts/bench_torchvision_zoo.py OUT_DIR [NAME ...]
"""
import os
import sys

import torch
import torchvision

CLASSES = 10
# torchvision builder names, as issue 22 lists them; googlenet and inception_v3 without their auxiliary heads
ARCHITECTURES = [
    "resnet18", "resnext50_32x4d", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
    "efficientnet_v2_s", "regnet_y_400mf", "mnasnet1_0", "shufflenet_v2_x1_0", "squeezenet1_1", "densenet121", "googlenet",
    "inception_v3", "convnext_tiny", "swin_t", "vit_b_16", "alexnet", "vgg11_bn",
]


def build(name):
    kwargs = {"num_classes": CLASSES}
    if name in ("googlenet", "inception_v3"):
        kwargs.update(aux_logits=False, init_weights=True)
    return getattr(torchvision.models, name)(**kwargs).eval()


def main():
    out, names = sys.argv[1], sys.argv[2:] or ARCHITECTURES
    os.makedirs(out, exist_ok=True)
    for seed, name in enumerate(ARCHITECTURES, start=1):
        if name not in names:
            continue
        torch.manual_seed(seed)
        side = 299 if name == "inception_v3" else 224
        path = os.path.join(out, f"{name}.onnx")
        try:
            model = build(name)
            torch.onnx.export(model, torch.randn(1, 3, side, side), path, opset_version=13, do_constant_folding=True,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        except Exception as e:  # the exporter's reason is the result
            print(f"{name}\t-\t{side}\t-\texport failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", flush=True)
            continue
        print(f"{name}\t{path}\t{side}\t{os.path.getsize(path) / 1e6:.1f}\texported", flush=True)


if __name__ == "__main__":
    main()

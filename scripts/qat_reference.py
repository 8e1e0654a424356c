#!/usr/bin/python3
"""Issue 24's QAT reference: PyTorch 1.13's own quantization-aware training (prepare_qat_fx / convert_fx) on the
checkpoint ModelOpt trained, with ModelOpt's QAT recipe (ADR-021) reproduced as closely as FX allows.

The recipe on both sides:
- BatchNorm folded into the convolutions before QAT (fuse_conv_bn_eval, as ModelOpt folds it): the trainable
  parameters are the folded conv / linear weights and biases, nothing else.
- Weights: fake-quantized every step with qparams observed on the current weight alone (MovingAverageMinMaxObserver
  with averaging_constant 1 is a fresh min-max each step, as ModelOpt's per-step weight observer); int8 [-128, 127]
  symmetric, per-tensor by default (bench-qat.sh's recipe), per-channel with --per-channel; eps 2^-12.
- Activations: uint8 [0, 255] affine, MinMaxObserver, calibrated on ModelOpt's 256 calibration images
  (calibration-sample.json, batches of 128, fake quantization off), then frozen with disable_observer before the
  first step (FX's QAT would keep updating them; ModelOpt freezes them from the start).
- SGD momentum 0.9, no weight decay, cross-entropy against the labels (ModelOpt's --qat-distillation false), the same
  learning rate, epochs and batch size; the training images are the first N of the training split outside ModelOpt's
  validation split (validation-split.json). The batch order is PyTorch's own seeded shuffle: .NET's Random cannot be
  replayed here, so the two runs see the same images in different orders.
- Scored after convert_fx (oneDNN: Debian's PyTorch has no x86 engine) on the first --test-subset test images.

Two modes:
  qat_reference.py train --checkpoint model-fp32.pth --work QAT_WORK_FOLDER [--epochs 1 --lr 0.0001 --subset 20000]
      prints a table (FP32, PTQ, PTQ + QAT) for docs/BENCHMARKS.md.
  qat_reference.py fixture
      writes tests/ModelOpt.Engine.Tests/TestData/references/qat_forward_resnet20.json: the fake-quant forward of the
      QAT-prepared resnet20_1ch_random.pth fixture before any step, calibrated on the committed 32 training images,
      on the committed 32 test images (per-tensor weights, min-max activations), for QatForwardReferenceTests.

Run with Debian's PyTorch: /usr/bin/python3 scripts/qat_reference.py ...
"""
import argparse
import copy
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.ao.quantization import (FakeQuantize, MinMaxObserver, MovingAverageMinMaxObserver,
                                   MovingAveragePerChannelMinMaxObserver, QConfig, QConfigMapping,
                                   disable_fake_quant, enable_fake_quant, enable_observer)
from torch.ao.quantization.quantize_fx import convert_fx, prepare_qat_fx
from torch.nn.utils.fusion import fuse_conv_bn_eval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_quantization_references import EPS, FMNIST, OUT, TEST_DATA, ResNet20  # noqa: E402


def qat_qconfig(per_channel):
    activation = FakeQuantize.with_args(observer=MinMaxObserver, quant_min=0, quant_max=255, dtype=torch.quint8,
                                        qscheme=torch.per_tensor_affine, reduce_range=False, eps=EPS)
    if per_channel:
        weight = FakeQuantize.with_args(observer=MovingAveragePerChannelMinMaxObserver, averaging_constant=1.0,
                                        quant_min=-128, quant_max=127, dtype=torch.qint8,
                                        qscheme=torch.per_channel_symmetric, ch_axis=0, eps=EPS)
    else:
        weight = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, averaging_constant=1.0,
                                        quant_min=-128, quant_max=127, dtype=torch.qint8,
                                        qscheme=torch.per_tensor_symmetric, eps=EPS)
    return QConfig(activation=activation, weight=weight)


def load_fmnist(prefix):
    """All images of one split, preprocessed as ModelOpt does (/255, bilinear 28 -> 32, (x - 0.5) / 0.5), and labels."""
    with gzip.open(os.path.join(FMNIST, f"{prefix}-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(FMNIST, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        labels = torch.from_numpy(np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64))
    x = F.interpolate(torch.from_numpy(raw.astype(np.float32) / 255.0), size=(32, 32), mode="bilinear",
                      align_corners=False, antialias=False)
    return (x - 0.5) / 0.5, labels


def fold_batch_norm(model):
    """The eval model with every BatchNorm folded into the conv before it (fuse_conv_bn_eval, as FX and ModelOpt fold)
    and taken out of the graph, so that prepare_qat_fx still fuses conv + relu and finds no BN to train."""
    graph = torch.fx.symbolic_trace(model)
    modules = dict(graph.named_modules())
    for node in list(graph.graph.nodes):
        if node.op == "call_module" and isinstance(modules[node.target], torch.nn.BatchNorm2d):
            conv_node = node.args[0]
            conv = modules[conv_node.target]
            parent, _, name = conv_node.target.rpartition(".")
            setattr(graph.get_submodule(parent) if parent else graph, name, fuse_conv_bn_eval(conv, modules[node.target]))
            node.replace_all_uses_with(conv_node)
            graph.graph.erase_node(node)
    graph.graph.lint()
    graph.delete_all_unused_submodules()
    graph.recompile()
    return graph.train()


def prepare(checkpoint, per_channel, calibration, batch_size=128):
    """FP32 model, and the QAT-prepared model (BN folded) calibrated on the given images with its activations frozen."""
    model = ResNet20()
    model.load_state_dict(torch.load(checkpoint))
    model.eval()
    folded = fold_batch_norm(model)
    prepared = prepare_qat_fx(folded, QConfigMapping().set_global(qat_qconfig(per_channel)),
                              example_inputs=(calibration[:1],))
    prepared.apply(disable_fake_quant)
    prepared.apply(enable_observer)
    with torch.no_grad():
        for start in range(0, len(calibration), batch_size):
            prepared(calibration[start:start + batch_size])
    # Freeze the activation observers as ModelOpt does; the weights' keep observing the current weight every step.
    for name, module in prepared.named_modules():
        if isinstance(module, FakeQuantize) and not name.endswith("weight_fake_quant"):
            module.disable_observer()
    prepared.apply(enable_fake_quant)
    return model, prepared


def accuracy(forward, images, labels, batch_size=500):
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            correct += int((forward(images[start:start + batch_size]).argmax(1) == labels[start:start + batch_size]).sum())
    return correct / len(images)


def int8(prepared):
    torch.backends.quantized.engine = "onednn"
    frozen = copy.deepcopy(prepared)
    frozen.eval()
    return convert_fx(frozen)


def train(args):
    torch.manual_seed(args.seed)
    train_images, train_labels = load_fmnist("train")
    test_images, test_labels = load_fmnist("t10k")
    test_images, test_labels = test_images[:args.test_subset], test_labels[:args.test_subset]
    with open(os.path.join(args.work, "calibration-sample.json")) as f:
        calibration = json.load(f)["indices"]
    with open(os.path.join(args.work, "validation-split.json")) as f:
        validation = json.load(f)["indices"]
    held = set(validation)
    indices = torch.tensor([i for i in range(len(train_images)) if i not in held][:args.subset])
    model, prepared = prepare(args.checkpoint, args.per_channel, train_images[calibration])
    rows = [("FP32", accuracy(model, test_images, test_labels), accuracy(model, train_images[validation], train_labels[validation]), None)]
    before = int8(prepared)
    rows.append(("PTQ (FX convert of the calibrated QAT model)", accuracy(before, test_images, test_labels),
                 accuracy(before, train_images[validation], train_labels[validation]), None))

    optimizer = torch.optim.SGD(prepared.parameters(), lr=args.lr, momentum=0.9)
    order = torch.Generator().manual_seed(args.seed)
    clock = time.perf_counter()
    losses = []
    prepared.train()
    for _ in range(args.epochs):
        shuffled = indices[torch.randperm(len(indices), generator=order)]
        total = 0.0
        for start in range(0, len(shuffled), args.batch_size):
            batch = shuffled[start:start + args.batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(prepared(train_images[batch]), train_labels[batch])
            loss.backward()
            optimizer.step()
            total += float(loss) * len(batch)
        losses.append(total / len(shuffled))
    seconds = time.perf_counter() - clock
    after = int8(prepared)
    rows.append((f"PTQ + QAT (labels, FX prepare_qat_fx), {seconds:.1f} s", accuracy(after, test_images, test_labels),
                 accuracy(after, train_images[validation], train_labels[validation]), losses))

    recipe = "per-channel" if args.per_channel else "per-tensor"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, engine {torch.backends.quantized.engine}; "
          f"{recipe} symmetric int8 weights, min-max uint8 activations frozen after calibration on {len(calibration)} images; "
          f"QAT {args.epochs} epoch(s) on {len(indices)} training images outside {len(validation)} validation images, "
          f"lr {args.lr}, batch {args.batch_size}, SGD momentum 0.9, seed {args.seed}")
    fp32 = rows[0][1]
    print(f"| form | test top-1 ({len(test_images)} images) | Δ vs FP32 (pt) | validation split | mean loss per epoch |")
    print("|---|---:|---:|---:|---|")
    for name, test, val, loss in rows:
        print(f"| {name} | {100 * test:.2f} % | {100 * (test - fp32):+.2f} | {100 * val:.2f} % | "
              f"{', '.join(f'{v:.4f}' for v in loss) if loss else '—'} |")


def fixture(args):
    def read(name):
        return torch.from_numpy(np.fromfile(os.path.join(OUT, name), dtype="<f4").reshape(32, 1, 32, 32))

    calibration, test = read("fmnist_train_first32_32x1x32x32.f32"), read("fmnist_test_first32_32x1x32x32.f32")
    _, prepared = prepare(os.path.join(TEST_DATA, "resnet20_1ch_random.pth"), False, calibration)
    with torch.no_grad():
        logits = prepared(test)
    reference = {
        "torch": torch.__version__,
        "checkpoint": "resnet20_1ch_random.pth",
        "calibration": "fmnist_train_first32_32x1x32x32.f32",
        "input": "fmnist_test_first32_32x1x32x32.f32",
        "recipe": "BN folded; per-tensor symmetric int8 weights (fresh min-max each forward); uint8 affine min-max "
                  "activations calibrated on one batch of 32 and frozen; eps 2^-12",
        "logits": [[round(float(v), 6) for v in row] for row in logits],
    }
    path = os.path.join(OUT, "qat_forward_resnet20.json")
    with open(path, "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["train", "fixture"])
    parser.add_argument("--checkpoint", help="ModelOpt's model-fp32.pth")
    parser.add_argument("--work", help="ModelOpt's QAT job work folder (calibration-sample.json, validation-split.json)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.0001)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--subset", type=int, default=20000)
    parser.add_argument("--test-subset", type=int, default=10000)
    parser.add_argument("--per-channel", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    (train if args.mode == "train" else fixture)(args)


if __name__ == "__main__":
    main()

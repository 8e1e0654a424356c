#!/usr/bin/python3
"""The PyTorch side of the whole-job comparison (docs/BENCHMARKS.md, "A job against the notebook"): the notebook's loop
on Fashion-MNIST with ModelOpt's preprocessing (bilinear resize 28->32, Normalize(0.5, 0.5), applied per batch as
ModelOpt does) and latency protocol (one torch.rand batch of 128, 5 warm-ups, 50 timed runs).

  train   MODEL OUT N     one epoch of SGD (lr 0.01, momentum 0.9, batch 128) on the first N training images; writes
                          OUT/MODEL.pth (a state_dict ModelOpt reads) and OUT/MODEL-train.json (epoch seconds)
  job     MODEL OUT       checkpoint in (OUT/MODEL.pth) -> FP32 evaluation (full test set + latency) -> PTQ (FX, onednn,
                          first 256 training images) -> int8 evaluation -> "compiled" int8 (traced + frozen) evaluation;
                          writes OUT/MODEL-job.json with every phase's seconds, and (outside the job's time) the FP32
                          latency in channels-last layout

Run with Debian's PyTorch and the glibc allocator setting ModelOpt applies in-process (ADR-001):
  MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 /usr/bin/python3 scripts/bench_notebook_pytorch.py job resnet20 OUT
scripts/bench-notebook.sh runs both sides in turn.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torchvision.models.resnet import BasicBlock

sys.path.insert(0, os.path.dirname(__file__))
from bench_onnx_models import idx, transform  # noqa: E402

BATCH, LATENCY_BATCH, WARMUP, TIMED, CALIBRATION = 128, 128, 5, 50, 256


class ResNet20(nn.Module):
    """ModelOpt's resnet20: torchvision BasicBlocks at widths 16/32/64, 1x1 conv + BN shortcuts (same state_dict keys)."""

    def __init__(self, channels=1, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.inplanes = 16
        self.layer1, self.layer2, self.layer3 = self._layer(16, 1), self._layer(32, 2), self._layer(64, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def _layer(self, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        blocks = [BasicBlock(self.inplanes, planes, stride, downsample)] + [BasicBlock(planes, planes) for _ in range(2)]
        self.inplanes = planes
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def create(name):
    if name == "resnet20":
        return ResNet20()
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(1, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    return model


def labels(name):
    return torch.from_numpy(idx(name).astype(np.int64))


def evaluate(model, images, targets):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), BATCH):
            correct += (model(transform(images[i:i + BATCH])).argmax(1) == targets[i:i + BATCH]).sum().item()
    return correct / len(images)


def latency(model):
    batch = torch.rand(LATENCY_BATCH, 1, 32, 32)
    with torch.no_grad():
        for _ in range(WARMUP):
            model(batch)
        times = []
        for _ in range(TIMED):
            start = time.perf_counter()
            model(batch)
            times.append((time.perf_counter() - start) * 1000)
    return {"mean_ms": round(float(np.mean(times)), 2), "std_ms": round(float(np.std(times)), 2),
            "median_ms": round(float(np.median(times)), 2)}


def measure(model, images, targets):
    start = time.perf_counter()
    result = {"accuracy": evaluate(model, images, targets), "latency": latency(model)}
    result["seconds"] = round(time.perf_counter() - start, 2)
    return result


def train(name, out, count):
    torch.manual_seed(0)
    images, targets = idx("train-images-idx3-ubyte.gz")[:count], labels("train-labels-idx1-ubyte.gz")[:count]
    model = create(name)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    order = torch.randperm(count)
    for i in range(0, count, BATCH):
        batch = order[i:i + BATCH].numpy()
        optimizer.zero_grad()
        loss = criterion(model(transform(images[batch])), targets[batch])
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    torch.save(model.state_dict(), os.path.join(out, f"{name}.pth"))
    result = {"model": name, "threads": torch.get_num_threads(), "images": count, "epoch_seconds": round(seconds, 2), "final_loss": round(loss.item(), 4)}
    with open(os.path.join(out, f"{name}-train.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result), flush=True)


def job(name, out):
    # Reading the data counts, as it does in ModelOpt's first stage.
    start = time.perf_counter()
    test_x, test_y = idx("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
    calibration = idx("train-images-idx3-ubyte.gz")[:CALIBRATION]
    model = create(name)
    model.load_state_dict(torch.load(os.path.join(out, f"{name}.pth")))
    model.eval()
    result = {"model": name, "threads": torch.get_num_threads(), "torch": torch.__version__, "fp32": measure(model, test_x, test_y)}

    phase = time.perf_counter()
    torch.backends.quantized.engine = "onednn"
    prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), example_inputs=(torch.rand(1, 1, 32, 32),))
    with torch.no_grad():
        for i in range(0, CALIBRATION, BATCH):
            prepared(transform(calibration[i:i + BATCH]))
    int8 = convert_fx(prepared)
    result["ptq_seconds"] = round(time.perf_counter() - phase, 2)
    result["int8"] = measure(int8, test_x, test_y)

    phase = time.perf_counter()
    with torch.no_grad():
        frozen = torch.jit.freeze(torch.jit.trace(int8, torch.rand(1, 1, 32, 32)).eval())
    result["compile_seconds"] = round(time.perf_counter() - phase, 2)
    result["compiled"] = measure(frozen, test_x, test_y)
    result["job_seconds"] = round(time.perf_counter() - start, 2)
    # Outside the job's time: PyTorch eager in the channels-last layout ModelOpt's FP32 forward uses, for the comparison.
    result["fp32_channels_last"] = {"latency": latency(model.to(memory_format=torch.channels_last))}
    with open(os.path.join(out, f"{name}-job.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    # Debian's OpenMP build may start with one thread; ModelOpt (LibTorch) uses one per core.
    torch.set_num_threads(int(os.environ.get("THREADS", os.cpu_count())))
    command, model_name, folder = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(folder, exist_ok=True)
    if command == "train":
        train(model_name, folder, int(sys.argv[4]))
    else:
        job(model_name, folder)

#!/usr/bin/python3
"""The PyTorch side of the accuracy-control benchmark (docs/BENCHMARKS.md, issue 10): trains resnet18-cifar and
mobilenet_v2-cifar (torchvision's, with the zoo's CIFAR stems, 1 input channel) briefly on Fashion-MNIST, saves each
state_dict for ModelOpt's --checkpoint (an existing OUT_DIR/NAME.pth is loaded instead of trained), and measures PyTorch FP32 and PyTorch FX int8 on the same checkpoint and the
same test images (onednn qconfig mapping, calibrated on the first 256 training images, as ModelOpt's default), with
ModelOpt's preprocessing. Kept affordable on 2 shared cores: a training subset and few epochs (TRAIN_IMAGES, EPOCHS).

  MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 /usr/bin/python3 scripts/bench_accuracy_control.py OUT_DIR
writes OUT_DIR/{resnet18-cifar,mobilenet_v2-cifar}.pth and OUT_DIR/pytorch_results.json; then scripts/bench-accuracy-control.sh.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, os.path.dirname(__file__))
from bench_onnx_models import accuracy, idx, latency, transform  # noqa: E402
from make_torchvision_fixtures import cifar_resnet, mobilenet  # noqa: E402
import torchvision  # noqa: E402

TRAIN_IMAGES = int(os.environ.get("TRAIN_IMAGES", 12000))
EPOCHS = int(os.environ.get("EPOCHS", 2))
TEST_IMAGES = int(os.environ.get("TEST_IMAGES", 1000))
BATCH, LR = 64, 0.02

MODELS = {
    "resnet18-cifar": lambda: cifar_resnet(torchvision.models.resnet18, 1, 10),
    "mobilenet_v2-cifar": lambda: mobilenet(1, 10, 1),
}


def main(out, names):
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    train_x = transform(idx("train-images-idx3-ubyte.gz")[:TRAIN_IMAGES])
    train_y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz")[:TRAIN_IMAGES].astype(np.int64))
    test_x = transform(idx("t10k-images-idx3-ubyte.gz")[:TEST_IMAGES])
    test_y = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz")[:TEST_IMAGES].astype(np.int64))
    path = os.path.join(out, "pytorch_results.json")
    results = json.load(open(path)) if os.path.exists(path) else {"models": {}}
    results.update({"torch": torch.__version__, "threads": torch.get_num_threads(), "train_images": TRAIN_IMAGES,
                    "epochs": EPOCHS, "test_images": TEST_IMAGES, "batch": BATCH, "lr": LR})
    for name in names:
        torch.manual_seed(1)
        model = MODELS[name]()
        checkpoint = os.path.join(out, f"{name}.pth")
        trained_s = None
        if os.path.exists(checkpoint):
            model.load_state_dict(torch.load(checkpoint))
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
            start = time.perf_counter()
            for _ in range(EPOCHS):
                model.train()
                order = torch.randperm(TRAIN_IMAGES)
                for i in range(0, TRAIN_IMAGES, BATCH):
                    batch = order[i:i + BATCH]
                    optimizer.zero_grad()
                    F.cross_entropy(model(train_x[batch]), train_y[batch]).backward()
                    optimizer.step()
            trained_s = round(time.perf_counter() - start, 1)
            torch.save(model.state_dict(), checkpoint)
        model.eval()
        fp32_acc, (fp32_ms, fp32_std) = accuracy(model, test_x, test_y), latency(model)
        # Debian's PyTorch 1.13 has no "x86" engine; onednn is what ModelOpt builds grouped-conv graphs for (ADR-004).
        torch.backends.quantized.engine = "onednn"
        prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), example_inputs=(test_x[:1],))
        with torch.no_grad():
            for i in range(0, 256, 128):
                prepared(train_x[i:i + 128])
        int8 = convert_fx(prepared)
        int8_acc, (int8_ms, int8_std) = accuracy(int8, test_x, test_y), latency(int8)
        results["models"][name] = {
            "train_seconds": trained_s,
            "fp32": {"accuracy": fp32_acc, "latency_ms": round(fp32_ms, 2), "latency_std_ms": round(fp32_std, 2)},
            "fx_int8": {"accuracy": int8_acc, "drop_points": round(100 * (fp32_acc - int8_acc), 2),
                        "latency_ms": round(int8_ms, 2), "latency_std_ms": round(int8_std, 2)},
        }
        print(name, json.dumps(results["models"][name]), flush=True)
        with open(path, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/modelopt-accuracy-bench", sys.argv[2:] or list(MODELS))

#!/usr/bin/python3
"""The PyTorch side of the ONNX benchmark (docs/BENCHMARKS.md): trains a set of architectures briefly on Fashion-MNIST,
exports each to ONNX for ModelOpt, and measures PyTorch FP32 and PyTorch FX int8 (onednn, calibrated on the first 256
training images, as ModelOpt's default) on the same test images with ModelOpt's preprocessing (bilinear resize to 32x32,
Normalize(0.5, 0.5)) and ModelOpt's latency protocol.

Sets: `cnn` (default): the fixture architectures of scripts/make_onnx_fixtures.py and torchvision's mobilenet_v2, opset 13;
`budget`: the Inception-style net alone (issue 24's budget case, scripts/bench-qat-budget.sh);
`modern` (issue 22): the ConvNeXt-, ViT- and ShuffleNetV2-style nets of make_onnx_fixtures.py, opset 17
(LayerNormalization), the ConvNeXt-style net also at opset 13 (LayerNorm decomposed), all from one training.

Run with Debian's PyTorch and the glibc allocator setting ModelOpt applies in-process (THREADS: PyTorch's intra-op
threads, 2 by default; Debian's torch 1.13 would otherwise use 1):
  MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 /usr/bin/python3 scripts/bench_onnx_models.py OUT_DIR [SET]
then `dotnet run -c Release --project bench/ModelOpt.Bench -- --model onnx:NAME.onnx --checkpoint OUT_DIR/NAME.onnx ...`
(scripts/bench-onnx.sh does both).
"""
import gzip
import io
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, os.path.dirname(__file__))
import make_onnx_fixtures as fixtures  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"
TRAIN_IMAGES, EPOCHS, BATCH, LR = 20000, 2, 64, 0.02
TEST_IMAGES, LATENCY_BATCH, WARMUP, TIMED = int(os.environ.get("TEST_IMAGES", 10000)), 128, 5, 20


def idx(name):
    with gzip.open(os.path.join(FMNIST, name)) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def transform(images):
    x = torch.from_numpy(images.copy()).float().div_(255).unsqueeze(1)
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False, antialias=False)
    return x.sub_(0.5).div_(0.5)


def accuracy(model, x, y):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 256):
            correct += (model(x[i:i + 256]).argmax(1) == y[i:i + 256]).sum().item()
    return correct / len(x)


def timings(model):
    """Milliseconds of each of TIMED forwards of one random batch of LATENCY_BATCH, after WARMUP untimed ones."""
    batch = torch.randn(LATENCY_BATCH, 1, 32, 32)
    with torch.no_grad():
        for _ in range(WARMUP):
            model(batch)
        times = []
        for _ in range(TIMED):
            start = time.perf_counter()
            model(batch)
            times.append((time.perf_counter() - start) * 1000)
    return times


def latency(model):
    times = timings(model)
    return float(np.mean(times)), float(np.std(times))


def size(model):
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def torchvision_mobilenet_v2():
    """torchvision's mobilenet_v2 (ImageNet stem) for 1-channel images, 10 classes."""
    model = torchvision.models.mobilenet_v2(num_classes=10)
    model.features[0][0] = nn.Conv2d(1, 32, 3, 2, 1, bias=False)
    return model


# name -> (constructor, opsets): the first opset writes NAME.onnx, each further one NAME_opsetN.onnx of the same weights.
MODEL_SETS = {
    "cnn": {"mobilenet_v2_like": (fixtures.MobileNetV2Like, (13,)), "vgg_like": (fixtures.VggLike, (13,)),
            "inception_like": (fixtures.InceptionLike, (13,)), "squeeze_excite": (fixtures.SqueezeExciteNet, (13,)),
            "torchvision_mobilenet_v2": (torchvision_mobilenet_v2, (13,))},
    # Issue 24's budget case (scripts/bench-qat-budget.sh): the Inception-style CNN alone, trained as in `cnn`.
    "budget": {"inception_like": (fixtures.InceptionLike, (13,))},
    "modern": {"convnext_like": (fixtures.ConvNeXtLike, (17, 13)), "vit_like": (fixtures.VitLike, (17,)),
               "shufflenet_v2_like": (fixtures.ShuffleNetV2Like, (17,))},
}


def onnx_files(name, opsets):
    return [(f"{name}.onnx" if i == 0 else f"{name}_opset{opset}.onnx", opset) for i, opset in enumerate(opsets)]


def blas_library():
    """The BLAS this process loaded (Debian's torch calls the system libblas.so.3 for Linear and MatMul)."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    return sorted(paths)


def main(out, model_set):
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("THREADS", 2)))
    torch.manual_seed(0)
    train_x, train_y = transform(idx("train-images-idx3-ubyte.gz")[:TRAIN_IMAGES]), torch.from_numpy(idx("train-labels-idx1-ubyte.gz")[:TRAIN_IMAGES].astype(np.int64))
    test_x, test_y = transform(idx("t10k-images-idx3-ubyte.gz")[:TEST_IMAGES]), torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz")[:TEST_IMAGES].astype(np.int64))
    results = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(), "train_images": TRAIN_IMAGES,
               "epochs": EPOCHS, "test_images": TEST_IMAGES, "models": {}}
    print("torch", torch.__version__, "threads", torch.get_num_threads(), "BLAS", results["blas"], flush=True)
    for name, (cls, opsets) in MODEL_SETS[model_set].items():
        torch.manual_seed(1)
        model = cls()
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
        model.eval()
        trained_s = time.perf_counter() - start
        for file, opset in onnx_files(name, opsets):
            torch.onnx.export(model, test_x[:1], os.path.join(out, file), opset_version=opset, input_names=["input"],
                              output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        fp32_acc, (fp32_ms, fp32_std) = accuracy(model, test_x, test_y), latency(model)
        torch.backends.quantized.engine = "onednn"
        prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), example_inputs=(test_x[:1],))
        with torch.no_grad():
            for i in range(0, 256, 128):
                prepared(train_x[i:i + 128])
        int8 = convert_fx(prepared)
        int8_acc, (int8_ms, int8_std) = accuracy(int8, test_x, test_y), latency(int8)
        results["models"][name] = {
            "onnx": [file for file, _ in onnx_files(name, opsets)],
            "train_seconds": round(trained_s, 1),
            "fp32": {"accuracy": fp32_acc, "size_bytes": size(model), "latency_ms": round(fp32_ms, 2), "latency_std_ms": round(fp32_std, 2)},
            "fx_int8": {"accuracy": int8_acc, "size_bytes": size(int8), "latency_ms": round(int8_ms, 2), "latency_std_ms": round(int8_std, 2)},
        }
        print(name, json.dumps(results["models"][name]), flush=True)
    with open(os.path.join(out, "pytorch_results.json" if model_set == "cnn" else f"pytorch_results_{model_set}.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/modelopt-onnx-bench", sys.argv[2] if len(sys.argv) > 2 else "cnn")

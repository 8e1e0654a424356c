#!/usr/bin/python3
"""The PyTorch side of the generic-job benchmark (issue 23, docs/BENCHMARKS.md): the non-classifier fixture nets of
scripts/make_zoo_onnx_fixtures.py trained briefly on two tasks made from Fashion-MNIST, against PyTorch FX int8.

Tasks (inputs uint8, preprocessed as ModelOpt's default: ToTensor, Normalize(0.5, 0.5); no resize, the images are
already the model's size):
- mask: SegmentationNet (3x32x48 -> 1x32x48 sigmoid). One 28x28 image at a seeded random column of a 32x48 black
  canvas (2 rows above), grey in all three channels; target: pixel > 0.25 (64/255). Metric: IoU of (map > 0.5).
- sequence: RecognizerNet(classes=10) (1x32x64 -> 16x10). Four images, each resized (bilinear) to 32x16, side by side;
  CTC-free target: each of the T=16 positions (4 pixels wide) is labelled with the class of the glyph under it; a
  glyph's prediction is the arg-max of the sum of its 4 positions' scores. Metric: sequence accuracy (all 4 glyphs
  right) and glyph accuracy.

  train OUT_DIR        trains, exports NAME.onnx, measures FP32 and FX int8 (metric, fidelity to FP32 as
                       docs/fidelity.md defines it, state_dict size, latency at batch 128), writes NAME.npz (x_train,
                       x_test: the unlabeled dataset for ModelOpt), NAME_test_input.f32 (the preprocessed x_test, raw
                       little-endian float32), NAME_targets.npz, NAME_fp32.npy and pytorch_results_generic.json
  score OUT_DIR NAME FILE.f32   the task metric and fidelity to FP32 of another int8 form's outputs on x_test (raw
                       float32 as `ModelOpt.Bench run-int8` writes them)
Run it as scripts/bench-generic.sh does (Debian's PyTorch, THREADS threads, OpenBLAS).
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
from torch.ao.quantization import QConfig, default_weight_observer
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, os.path.dirname(__file__))
import make_zoo_onnx_fixtures as fixtures  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"
TRAIN_SAMPLES, EPOCHS, BATCH, LR = int(os.environ.get("TRAIN_SAMPLES", 15000)), 3, 64, 0.02
CALIBRATION, MODELOPT_TRAIN = 256, 1000  # FX calibrates on the first 256 training inputs, as ModelOpt's --calibration 256 --calibration-sampling first
TEST_SAMPLES, LATENCY_BATCH, WARMUP, TIMED = int(os.environ.get("TEST_SAMPLES", 2000)), 128, 5, 20
MASK_THRESHOLD, GLYPHS, GLYPH_WIDTH = 64, 4, 16


def idx(name):
    with gzip.open(os.path.join(FMNIST, name)) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mask_task(images, seed):
    """uint8 N x 3 x 32 x 48 canvases and their N x 1 x 32 x 48 {0, 1} masks."""
    rng = np.random.default_rng(seed)
    canvas = np.zeros((len(images), 1, 32, 48), np.uint8)
    for i, column in enumerate(rng.integers(0, 48 - 28 + 1, len(images))):
        canvas[i, 0, 2:30, column:column + 28] = images[i]
    return np.repeat(canvas, 3, axis=1), (canvas > MASK_THRESHOLD).astype(np.float32)


def sequence_task(images, labels, seed):
    """uint8 N x 1 x 32 x 64 rows of 4 glyphs and their N x 4 classes."""
    rng = np.random.default_rng(seed)
    count = len(images) // GLYPHS * GLYPHS
    order = rng.permutation(len(images))[:count].reshape(-1, GLYPHS)
    glyphs = torch.from_numpy(images.astype(np.float32)).unsqueeze(1)
    glyphs = F.interpolate(glyphs, size=(32, GLYPH_WIDTH), mode="bilinear", align_corners=False).round().clamp(0, 255)
    glyphs = glyphs.to(torch.uint8).numpy()
    rows = np.concatenate([glyphs[order[:, g]] for g in range(GLYPHS)], axis=3)
    return rows, labels[order].astype(np.int64)


def preprocess(x):
    return torch.from_numpy(x.astype(np.float32) / 255).sub_(0.5).div_(0.5)


def outputs(model, x):
    with torch.no_grad():
        return torch.cat([model(x[i:i + 256]) for i in range(0, len(x), 256)])


def iou(probability, mask):
    predicted = probability > 0.5
    target = mask > 0.5
    return float((predicted & target).sum() / (predicted | target).sum())


def glyph_predictions(scores):
    """N x T x C -> N x GLYPHS: each glyph's arg-max of its positions' summed scores."""
    n, t, c = scores.shape
    return scores.reshape(n, GLYPHS, t // GLYPHS, c).sum(2).argmax(-1)


def metric(task, out, target):
    if task == "mask":
        return {"iou": iou(out, target)}
    right = glyph_predictions(out) == target
    return {"sequence_accuracy": float(right.all(1).float().mean()), "glyph_accuracy": float(right.float().mean())}


def fidelity(out, fp32, class_axis):
    """docs/fidelity.md: SQNR over every element, cosine, mean / max |difference|, arg-max agreement along class_axis."""
    a, r = out.double().flatten(), fp32.double().flatten()
    error = (a - r).pow(2).sum()
    result = {"sqnr_db": float(10 * torch.log10(r.pow(2).sum() / error)) if error > 0 else float("inf"),
              "cosine": float(F.cosine_similarity(a, r, dim=0)), "mean_abs_error": float((a - r).abs().mean()),
              "max_abs_error": float((a - r).abs().max())}
    if class_axis is not None:
        result["argmax_agreement"] = float((out.argmax(class_axis) == fp32.argmax(class_axis)).float().mean())
    return result


def latency(model, shape):
    batch = torch.randn(LATENCY_BATCH, *shape)
    with torch.no_grad():
        for _ in range(WARMUP):
            model(batch)
        times = []
        for _ in range(TIMED):
            start = time.perf_counter()
            model(batch)
            times.append((time.perf_counter() - start) * 1000)
    return round(float(np.mean(times)), 2), round(float(np.std(times)), 2)


def size(model):
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def tasks():
    train_images, train_labels = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
    test_images, test_labels = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    mask_train = mask_task(train_images[:TRAIN_SAMPLES], 0)
    mask_test = mask_task(test_images[:TEST_SAMPLES], 1)
    sequence_train = sequence_task(train_images[:TRAIN_SAMPLES * GLYPHS], train_labels[:TRAIN_SAMPLES * GLYPHS], 0)
    sequence_test = sequence_task(test_images[:TEST_SAMPLES * GLYPHS], test_labels[:TEST_SAMPLES * GLYPHS], 1)
    # name -> (constructor, task, train (x, target), test (x, target), output name, class axis of the output)
    return {"segmentation_mask": (fixtures.SegmentationNet, "mask", mask_train, mask_test, "probability_map", None),
            "recognizer_sequence": (lambda: fixtures.RecognizerNet(classes=10), "sequence", sequence_train, sequence_test,
                                    "sequence_logits", -1)}


def loss(task, out, target):
    if task == "mask":
        return F.binary_cross_entropy(out, target)
    positions = target.repeat_interleave(out.shape[1] // GLYPHS, dim=1)  # N x T: the glyph under each position
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), positions.reshape(-1))


def train(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("THREADS", 2)))
    results = {"torch": torch.__version__, "threads": torch.get_num_threads(), "train_samples": TRAIN_SAMPLES, "epochs": EPOCHS,
               "test_samples": TEST_SAMPLES, "calibration": CALIBRATION, "models": {}}
    print("torch", torch.__version__, "threads", torch.get_num_threads(), flush=True)
    for name, (cls, task, (train_u8, train_target), (test_u8, test_target), output, class_axis) in tasks().items():
        train_x, test_x = preprocess(train_u8), preprocess(test_u8)
        train_t, test_t = torch.from_numpy(train_target), torch.from_numpy(test_target)
        torch.manual_seed(1)
        model = cls()
        optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
        start = time.perf_counter()
        for _ in range(EPOCHS):
            model.train()
            order = torch.randperm(len(train_x))
            for i in range(0, len(train_x), BATCH):
                batch = order[i:i + BATCH]
                optimizer.zero_grad()
                loss(task, model(train_x[batch]), train_t[batch]).backward()
                optimizer.step()
        model.eval()
        trained_s = time.perf_counter() - start
        shape = tuple(test_x.shape[1:])
        torch.onnx.export(model, test_x[:1], os.path.join(out_dir, f"{name}.onnx"), opset_version=13, input_names=["input"],
                          output_names=[output], dynamic_axes={"input": {0: "N"}, output: {0: "N"}})
        np.savez_compressed(os.path.join(out_dir, f"{name}.npz"), x_train=train_u8[:MODELOPT_TRAIN], x_test=test_u8)
        np.savez_compressed(os.path.join(out_dir, f"{name}_targets.npz"), y_test=test_target)
        test_x.numpy().astype("<f4").tofile(os.path.join(out_dir, f"{name}_test_input.f32"))
        fp32_out = outputs(model, test_x)
        np.save(os.path.join(out_dir, f"{name}_fp32.npy"), fp32_out.numpy())
        fp32_ms = latency(model, shape)
        torch.backends.quantized.engine = "onednn"
        # FX refuses per-channel weights for ConvTranspose: per-tensor there, per-channel elsewhere (ModelOpt's default)
        mapping = get_default_qconfig_mapping("onednn")
        mapping.set_object_type(nn.ConvTranspose2d, QConfig(activation=mapping.global_qconfig.activation, weight=default_weight_observer))
        prepared = prepare_fx(model, mapping, example_inputs=(test_x[:1],))
        with torch.no_grad():
            for i in range(0, CALIBRATION, 128):
                prepared(train_x[i:i + 128])
        int8 = convert_fx(prepared)
        int8_out = outputs(int8, test_x)
        int8_ms = latency(int8, shape)
        results["models"][name] = {
            "task": task, "output": output, "class_axis": class_axis, "train_seconds": round(trained_s, 1),
            "fp32": {**metric(task, fp32_out, test_t), "size_bytes": size(model), "latency_ms": fp32_ms[0], "latency_std_ms": fp32_ms[1]},
            "fx_int8": {**metric(task, int8_out, test_t), **fidelity(int8_out, fp32_out, class_axis), "size_bytes": size(int8),
                        "latency_ms": int8_ms[0], "latency_std_ms": int8_ms[1]},
        }
        print(name, json.dumps(results["models"][name]), flush=True)
    with open(os.path.join(out_dir, "pytorch_results_generic.json"), "w") as f:
        json.dump(results, f, indent=1)


def score(out_dir, name, path):
    with open(os.path.join(out_dir, "pytorch_results_generic.json")) as f:
        entry = json.load(f)["models"][name]
    fp32 = torch.from_numpy(np.load(os.path.join(out_dir, f"{name}_fp32.npy")))
    out = torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(fp32.shape))
    target = torch.from_numpy(np.load(os.path.join(out_dir, f"{name}_targets.npz"))["y_test"])
    print(name, os.path.basename(path), json.dumps({**metric(entry["task"], out, target), **fidelity(out, fp32, entry["class_axis"])}))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "train":
        train(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "score":
        score(*sys.argv[2:])
    else:
        sys.exit(__doc__)

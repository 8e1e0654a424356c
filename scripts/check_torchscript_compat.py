#!/usr/bin/env python3
"""Opens a ModelOpt int8 TorchScript archive in PyTorch and compares its logits with ModelOpt's.

Usage: check_torchscript_compat.py MODEL.pt INPUT.f32 EXPECTED.f32 SHAPES.json [--engine x86|fbgemm|onednn]
                                   [--write-logits PYTORCH.f32]

INPUT.f32 / EXPECTED.f32 are raw little-endian float32 (as written by the test
TorchScriptCompatExportTests with MODELOPT_COMPAT_DIR set); SHAPES.json holds input_shape,
output_shape and output_scale. Prints per-sample top-1 and the max abs logit difference (also in
output quantization steps); exits 1 on any top-1 mismatch, 2 if the archive cannot be loaded. --write-logits saves
PyTorch's logits (raw float32): PyTorchRunsModelOptArchiveTests reads the committed ones in
tests/ModelOpt.Engine.Tests/TestData/compat/.
"""
import argparse
import json
import sys

import numpy as np
import torch


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("input")
    parser.add_argument("expected")
    parser.add_argument("shapes")
    parser.add_argument("--engine", default=None, help="torch.backends.quantized.engine to use")
    parser.add_argument("--write-logits", default=None, help="write PyTorch's logits here as raw float32")
    args = parser.parse_args()

    with open(args.shapes) as f:
        shapes = json.load(f)
    if args.engine:
        torch.backends.quantized.engine = args.engine
    print(f"torch {torch.__version__}, quantized engine {torch.backends.quantized.engine} "
          f"(supported: {torch.backends.quantized.supported_engines}); ModelOpt used {shapes.get('engine')}")

    try:
        model = torch.jit.load(args.model)
    except Exception as e:  # report why this PyTorch cannot open the archive
        print(f"LOAD FAILED: {type(e).__name__}: {e}")
        return 2
    model.eval()

    x = torch.from_numpy(np.fromfile(args.input, dtype="<f4").reshape(shapes["input_shape"]))
    expected = torch.from_numpy(np.fromfile(args.expected, dtype="<f4").reshape(shapes["output_shape"]))
    with torch.no_grad():
        actual = model(x)
    if args.write_logits:
        actual.contiguous().numpy().astype("<f4").tofile(args.write_logits)

    diff = (actual - expected).abs()
    top1_actual, top1_expected = actual.argmax(1), expected.argmax(1)
    for i in range(actual.shape[0]):
        mark = "" if top1_actual[i] == top1_expected[i] else "  MISMATCH"
        print(f"sample {i:3d}: top-1 pytorch {int(top1_actual[i])} modelopt {int(top1_expected[i])} "
              f"max|diff| {float(diff[i].max()):.6f}{mark}")
    mismatches = int((top1_actual != top1_expected).sum())
    scale = shapes.get("output_scale")
    steps = f" = {float(diff.max()) / scale:.2f} output steps" if scale else ""
    print(f"max abs logit diff {float(diff.max()):.6f}{steps}; bit-identical: {bool(torch.equal(actual, expected))}; "
          f"top-1 mismatches {mismatches}/{actual.shape[0]}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())

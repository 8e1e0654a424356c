#!/usr/bin/python3
"""Writes tests/ModelOpt.Engine.Tests/TestData/references/entropy_*: the KL-optimal thresholds of TensorRT's entropy
calibration on seeded data, computed here with numpy alone, independently of ModelOpt.

The algorithm is the one NVIDIA publishes for TensorRT in pytorch-quantization
(tools/pytorch-quantization/pytorch_quantization/calib/histogram.py, _compute_amax_entropy), re-implemented from its
description, not imported:
- a histogram of |x| in 2048 equal bins over [0, max |x|];
- bin 0 takes bin 1's count, so that a spike of exact zeros (ReLU outputs) does not dominate the divergence;
- nbins = 128 quantized levels for signed data, 256 for unsigned; candidates i = 128 .. 2048 (start_bin 128);
- P = the first i bins with the mass beyond them added to bin i - 1; Q = those i bins (without that mass) merged into
  nbins groups (bin b in group floor(b * nbins / i)), each group's count spread evenly over its non-empty bins, 0 on the
  empty ones;
- KL(P || Q) after normalising both, infinite where Q is 0 and P is not (no smoothing);
- among equal divergences the largest i; the threshold is i * max |x| / 2048.
Each case also records the bins whose divergence is within NEAR_OPTIMAL of the minimum.
"Unsigned" is a property of the quantizer in pytorch-quantization; here (and in ModelOpt, whose activations are always
uint8) it is taken from the data: unsigned when no value is negative, unless the quantizer is symmetric (zero point in
the middle: 128 levels a side), as in the relu_symmetric case.

Run: /usr/bin/python3 scripts/make_entropy_references.py
"""
import json
import os

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "ModelOpt.Engine.Tests", "TestData", "references")
BINS = 2048
START_BIN = 128
VALUES = 12_000
# Bins whose divergence is within this fraction of the minimum are recorded as near-optimal: where two minima are
# that close, a slightly different histogram (one re-binned as the range grew) may pick either.
NEAR_OPTIMAL = 0.01


def cases():
    """Each case: a name and VALUES float32 values, seeded."""
    rng = np.random.default_rng(1401)
    relu = np.maximum(0.0, rng.normal(0.3, 1.0, VALUES))
    relu_outliers = np.maximum(0.0, rng.normal(0.0, 1.0, VALUES))
    relu_outliers[:12] = rng.uniform(8.0, 12.0, 12)
    signed = np.where(rng.random(VALUES) < 0.7, rng.normal(-0.5, 1.0, VALUES), rng.normal(1.5, 0.7, VALUES))
    heavy_signed = rng.standard_t(3, VALUES)
    heavy_one_sided = np.abs(rng.laplace(0.0, 1.0, VALUES))
    point_mass = np.abs(rng.normal(0.0, 1.0, VALUES))
    point_mass[rng.random(VALUES) < 0.4] = 1.25
    # A conv output feeding an add: mostly positive, a short negative tail that the threshold does not reach.
    mostly_positive = np.where(rng.random(VALUES) < 0.85, np.abs(rng.normal(0.0, 1.5, VALUES)), rng.normal(-0.2, 0.15, VALUES))
    return [
        ("relu", relu),
        ("relu_with_sparse_outliers", relu_outliers),
        ("signed_bimodal", signed),
        ("signed_heavy_tails", heavy_signed),
        ("one_sided_heavy_tails", heavy_one_sided),
        ("point_mass", point_mass),
        ("signed_mostly_positive", mostly_positive),
    ]


def divergence(hist, i, nbins):
    """KL(P || Q) for the candidate of i bins, as the module docstring describes."""
    kept = hist[:i]
    group = np.arange(i) * nbins // i
    nonzero = kept > 0
    merged = np.bincount(group, weights=kept, minlength=nbins)
    nonzero_bins = np.bincount(group, weights=nonzero.astype(np.float64), minlength=nbins)
    q = np.where(nonzero, merged[group] / np.maximum(nonzero_bins[group], 1.0), 0.0)
    p = kept.copy()
    p[-1] += hist[i:].sum()
    mass = p > 0
    if np.any(mass & (q == 0)):
        return np.inf
    p = p / p.sum()
    q = q / q.sum()
    return float(np.sum(p[mass] * np.log(p[mass] / q[mass])))


def optimal_threshold(x, symmetric=False):
    """symmetric: a quantizer with zero point in the middle (ModelOpt's symmetric uint8, zero point 128; TensorRT's
    signed int8), which has 128 levels on each side even for non-negative data."""
    x = x.astype(np.float64)
    unsigned = bool(x.min() >= 0) and not symmetric
    nbins = 256 if unsigned else 128
    abs_max = float(np.abs(x).max())
    hist, _ = np.histogram(np.abs(x), bins=BINS, range=(0.0, abs_max))
    hist = hist.astype(np.float64)
    hist[0] = hist[1]
    divergences = np.array([divergence(hist, i, nbins) for i in range(START_BIN, BINS + 1)])
    best = len(divergences) - 1 - int(np.argmin(divergences[::-1]))
    i = START_BIN + best
    near_optimal = [START_BIN + int(k) for k in np.flatnonzero(divergences <= divergences[best] * (1 + NEAR_OPTIMAL))]
    return {"unsigned": unsigned, "levels": nbins, "abs_max": abs_max, "bin": i, "threshold": i * abs_max / BINS,
            "divergence": float(divergences[best]), "near_optimal_bins": near_optimal,
            "min": float(x.min()), "max": float(x.max())}


def main():
    os.makedirs(OUT, exist_ok=True)
    named = cases()
    data = np.stack([values.astype(np.float32) for _, values in named])
    data_file = f"entropy_cases_{data.shape[0]}x{data.shape[1]}.f32"
    data.astype("<f4").tofile(os.path.join(OUT, data_file))
    # The thresholds are computed on the float32 values the tests read.
    results = [dict(name=name, index=k, spec="uint8_affine", **optimal_threshold(data[k])) for k, (name, _) in enumerate(named)]
    # TensorRT's default: a signed quantizer (128 levels) even after a ReLU.
    relu = next(k for k, (name, _) in enumerate(named) if name == "relu")
    results.append(dict(name="relu_symmetric", index=relu, spec="uint8_symmetric", **optimal_threshold(data[relu], symmetric=True)))
    references = {"numpy": np.__version__, "bins": BINS, "start_bin": START_BIN, "near_optimal": NEAR_OPTIMAL,
                  "data": {"file": data_file, "shape": list(data.shape)}, "cases": results}
    with open(os.path.join(OUT, "entropy_references.json"), "w") as f:
        json.dump(references, f, indent=1)
        f.write("\n")
    for r in results:
        print(f"{r['name']:28s} levels {r['levels']:3d}  bin {r['bin']:4d}  T {r['threshold']:.4f} of max |x| {r['abs_max']:.4f}")


if __name__ == "__main__":
    main()

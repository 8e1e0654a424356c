"""Per-output-channel weight ranges of a torchvision-style MobileNetV2 state_dict after BN folding (PyTorch only, no ModelOpt):
for each conv, max_i r_i / median_i r_i with r_i = max |w| of output channel i. A per-tensor int8 scale rounds the weights of
a channel with range r_i to about 127 * r_i / max r levels, so a large ratio is what cross-layer equalization fixes.
  /usr/bin/python3 scripts/weight_channel_ranges.py CHECKPOINT.pth
"""
import sys

import torch

state = torch.load(sys.argv[1], map_location="cpu")
ratios = {}
for key, weight in state.items():
    if not key.endswith(".weight") or weight.dim() != 4:
        continue
    prefix = key[: -len("weight")]
    # The BN after a conv is the next index of its Sequential (conv "x.0" -> BN "x.1", projection "x.2" -> BN "x.3").
    head, index = prefix[:-1].rsplit(".", 1)
    bn = f"{head}.{int(index) + 1}."
    if bn + "running_var" in state:
        weight = weight * (state[bn + "weight"] / torch.sqrt(state[bn + "running_var"] + 1e-5)).reshape(-1, 1, 1, 1)
    ranges = weight.abs().amax(dim=(1, 2, 3))
    kind = "depthwise" if weight.shape[1] == 1 else "regular"
    ratios[key[: -len(".weight")]] = (kind, (ranges.max() / ranges.median()).item(), (ranges.max() / ranges.min()).item())
for kind in ("depthwise", "regular"):
    rows = [(name, r) for name, (k, *r) in ratios.items() if k == kind]
    worst = max(rows, key=lambda row: row[1][0])
    print(f"{kind}: {len(rows)} convs; max/median range ratio median {sorted(r[0] for _, r in rows)[len(rows) // 2]:.1f}, "
          f"worst {worst[1][0]:.1f} ({worst[0]}, max/min {worst[1][1]:.0f})")

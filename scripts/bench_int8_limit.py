#!/usr/bin/python3
"""The PyTorch side of scripts/bench-int8-limit.sh (issue 28): how close int8 runs to this CPU's int8 compute limit on
depthwise, branchy and plain nets.

`train OUT_DIR`: trains three nets on Fashion-MNIST the way scripts/bench_onnx_models.py does (same preprocessing, SGD
settings and calibration; TRAIN_IMAGES / EPOCHS to shorten it), exports each to OUT_DIR/NAME.onnx and times, at batch 128
and THREADS threads with ModelOpt's protocol (5 warm-ups, 20 timed runs): PyTorch FP32 eager, PyTorch FX int8 on the
onednn engine (the best of Debian torch 1.13's two: onednn and qnnpack) eagerly and scripted (traced + frozen). Writes
OUT_DIR/pytorch_int8_limit.json with each net's multiply-accumulates per image (convs and linears, counted by hooks).
    mobilenet_v2_cifar: torchvision's mobilenet_v2 with the CIFAR stem (stride-1 first conv, 1 channel), as the zoo's
    inception_style: three Inception blocks (1x1 / 1x1-3x3 / avg-pool-1x1 / max-pool-1x1 branches, ReLU6, cat)
    vgg_style: six 3x3 conv-BN-ReLU layers in three stages with max-pooling, two linears

`paired OUT_DIR` (after ModelOpt's runs): PAIRS (default 5) alternations of PyTorch's best FX int8 form, rebuilt from
OUT_DIR/NAME-fp32.pth with the same calibration, and ModelOpt's delivered TorchScript archive timed by
scripts/int8-op-profile --time, seconds apart: ratios that a change of the machine's state between minutes moves less
(the compile stage's latencies moved ~10 ms a forward from one process to the next on 2026-12-08). Writes OUT_DIR/paired.json.
`summarize OUT_DIR`: reads that file and ModelOpt.Bench's tables (OUT_DIR/modelopt-NAME.txt) and prints, per form: mean
latency at batch 128, images/s, MMAC/img and the share of the int8 compute limit; which form the compile stage delivered
and its speed against PyTorch's best int8. The limit is the one bench-int8-limit.sh measured (OUT_DIR/int8_peak_gmacs.txt:
scripts/int8-peak/vnni_peak.c, vpdpbusd at full throughput on THREADS threads); without it, 64 int8 MACs per cycle per
core (AVX-512 VNNI) times the clock /proc/cpuinfo reports ("cpu MHz", the first core; a VM's may be the nominal one and
the cores run faster: on 2026-12-07 2596 MHz gave 332 GMAC/s where the probe measured 456-466) times THREADS.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, os.path.dirname(__file__))
import bench_onnx_models as bench  # noqa: E402
import make_onnx_fixtures as fixtures  # noqa: E402
import make_torchvision_fixtures as zoo  # noqa: E402

TRAIN_IMAGES = int(os.environ.get("TRAIN_IMAGES", bench.TRAIN_IMAGES))
EPOCHS = int(os.environ.get("EPOCHS", bench.EPOCHS))
MACS_PER_CYCLE_PER_CORE = 64
RESULTS = "pytorch_int8_limit.json"
# Debian torch 1.13 has two quantized engines, onednn and qnnpack; qnnpack ran these nets 8-14x slower than onednn (and at
# chance accuracy on two of them) on 2026-12-07, so it is left out (ENGINES=onednn,qnnpack brings it back). The summary
# marks the fastest int8 form that ran: onednn's traced module fails on mobilenet_v2_cifar ("could not create a
# primitive descriptor for a reorder primitive"), its eager one runs.
ENGINES = tuple(os.environ.get("ENGINES", "onednn").split(","))


class InceptionBlock(nn.Module):
    def __init__(self, cin, b1, b2_reduce, b2, b3, b4):
        super().__init__()
        self.b1 = fixtures.conv_bn(cin, b1, 1, act=nn.ReLU6)
        self.b2 = nn.Sequential(fixtures.conv_bn(cin, b2_reduce, 1, act=nn.ReLU6), fixtures.conv_bn(b2_reduce, b2, 3, act=nn.ReLU6))
        self.b3 = nn.Sequential(nn.AvgPool2d(3, 1, 1), fixtures.conv_bn(cin, b3, 1, act=nn.ReLU6))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), fixtures.conv_bn(cin, b4, 1, act=nn.ReLU6))
        self.channels = b1 + b2 + b3 + b4

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class InceptionStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = fixtures.conv_bn(1, 24, 3, act=nn.ReLU6)
        self.block1 = InceptionBlock(24, 16, 16, 24, 8, 8)
        self.block2 = InceptionBlock(self.block1.channels, 32, 32, 48, 24, 24)
        self.block3 = InceptionBlock(self.block2.channels, 64, 48, 64, 32, 32)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(self.block3.channels, fixtures.CLASSES)

    def forward(self, x):
        x = self.pool(self.block1(self.stem(x)))
        x = self.block3(self.pool(self.block2(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class VggStyle(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [], 1
        for width in (32, 64, 128):
            layers += [fixtures.conv_bn(cin, width, act=nn.ReLU), fixtures.conv_bn(width, width, act=nn.ReLU), nn.MaxPool2d(2)]
            cin = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(128 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, fixtures.CLASSES))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


MODELS = {
    "mobilenet_v2_cifar": lambda: zoo.mobilenet(1, fixtures.CLASSES, 1),
    "inception_style": InceptionStyle,
    "vgg_style": VggStyle,
}


def macs_per_image(model):
    total = [0]

    def count(module, _, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total[0] += output.numel() * module.in_channels // module.groups * k
        elif isinstance(module, nn.Linear):
            total[0] += output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, 1, 32, 32))
    for hook in hooks:
        hook.remove()
    return total[0]


def measure(model, test_x, test_y):
    """Top-1 and mean latency at batch 128, or the error a form raised (reported, not fatal)."""
    try:
        return {"accuracy": bench.accuracy(model, test_x, test_y), "latency_ms": round(bench.latency(model)[0], 2)}
    except RuntimeError as e:
        return {"error": str(e).splitlines()[0][:120]}


def fx_int8(model, engine, train_x):
    """PyTorch FX post-training int8 on ENGINE, calibrated on the first 256 training images (deterministic)."""
    torch.backends.quantized.engine = engine
    prepared = prepare_fx(model, get_default_qconfig_mapping(engine), example_inputs=(train_x[:1],))
    with torch.no_grad():
        for i in range(0, 256, 128):
            prepared(train_x[i:i + 128])
        return convert_fx(prepared)


def scripted(int8, example):
    with torch.no_grad():
        return torch.jit.freeze(torch.jit.trace(int8, example[:1]).eval())


def train(out):
    os.makedirs(out, exist_ok=True)
    threads = int(os.environ.get("THREADS", 2))
    torch.set_num_threads(threads)
    train_x = bench.transform(bench.idx("train-images-idx3-ubyte.gz")[:TRAIN_IMAGES])
    train_y = torch.from_numpy(bench.idx("train-labels-idx1-ubyte.gz")[:TRAIN_IMAGES].astype("int64"))
    test_x = bench.transform(bench.idx("t10k-images-idx3-ubyte.gz")[:bench.TEST_IMAGES])
    test_y = torch.from_numpy(bench.idx("t10k-labels-idx1-ubyte.gz")[:bench.TEST_IMAGES].astype("int64"))
    results = {"torch": torch.__version__, "threads": torch.get_num_threads(), "train_images": TRAIN_IMAGES, "epochs": EPOCHS,
               "test_images": bench.TEST_IMAGES, "models": {}}
    for name, build in MODELS.items():
        torch.manual_seed(1)
        model = build()
        optimizer = torch.optim.SGD(model.parameters(), lr=bench.LR, momentum=0.9)
        start = time.perf_counter()
        for _ in range(EPOCHS):
            model.train()
            order = torch.randperm(TRAIN_IMAGES)
            for i in range(0, TRAIN_IMAGES, bench.BATCH):
                batch = order[i:i + bench.BATCH]
                optimizer.zero_grad()
                F.cross_entropy(model(train_x[batch]), train_y[batch]).backward()
                optimizer.step()
        model.eval()
        trained_s = time.perf_counter() - start
        torch.onnx.export(model, test_x[:1], os.path.join(out, f"{name}.onnx"), opset_version=13, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        torch.save(model.state_dict(), os.path.join(out, f"{name}-fp32.pth"))
        forms = {"pytorch-fp32-eager": measure(model, test_x, test_y)}
        for engine in ENGINES:
            int8 = fx_int8(model, engine, train_x)
            forms[f"pytorch-fx-int8-{engine}-eager"] = measure(int8, test_x, test_y)
            try:
                forms[f"pytorch-fx-int8-{engine}-scripted"] = measure(scripted(int8, test_x), test_x, test_y)
            except RuntimeError as e:
                forms[f"pytorch-fx-int8-{engine}-scripted"] = {"error": str(e).splitlines()[0][:120]}
        results["models"][name] = {"macs_per_image": macs_per_image(model), "train_seconds": round(trained_s, 1), "forms": forms}
        print(name, json.dumps(results["models"][name]), flush=True)
    with open(os.path.join(out, RESULTS), "w") as f:
        json.dump(results, f, indent=1)


def modelopt_rows(path):
    """(form, backend, accuracy, mean latency ms, note) of ModelOpt.Bench's table: columns split by ' | '."""
    rows = []
    with open(path) as f:
        for line in f:
            cells = [c.strip() for c in line.split(" | ")]
            if len(cells) < 10 or cells[0] == "Model form" or "±" not in cells[6]:
                continue
            rows.append((cells[0], cells[1], cells[3], float(cells[6].split("±")[0]), cells[10] if len(cells) > 10 else ""))
    return rows


# The delivered TorchScript forms the probe runner (scripts/int8-op-profile, --time) can time: archive in the job's work
# folder and the quantized engine it runs under. ONNX Runtime's QDQ form is not paired.
ARCHIVES = {"libtorch-int8-x86": ("model-int8.pt", "X86"), "libtorch-int8-onednn": ("model-int8.pt", "OneDnn"),
            "libtorch-int8-onednn-fused": ("model-int8-onednn-fused.pt", "OneDnn")}
PAIRS = int(os.environ.get("PAIRS", 5))
PAIRED = "paired.json"


def modelopt_table(out, name):
    """ModelOpt.Bench's rows for NAME (modelopt_rows), none when it did not run."""
    table = os.path.join(out, f"modelopt-{name}.txt")
    return modelopt_rows(table) if os.path.exists(table) else []


def delivered_row(table):
    """(backend, note, mean ms) of the form the compile stage delivered, from modelopt_table's rows, or None."""
    return next(((backend, note, ms) for form, backend, _, ms, note in table if form == "candidate" and note.startswith("selected")), None)


def best_pytorch_int8(forms):
    """The name of the fastest PyTorch FX int8 form that ran."""
    return min((f for f, r in forms.items() if "int8" in f and "error" not in r), key=lambda f: forms[f]["latency_ms"], default=None)


def paired(out):
    """PAIRS alternations, each PyTorch's best FX int8 form (rebuilt in this process from the saved FP32 weights and
    the same calibration) timed here and, right after, ModelOpt's delivered archive timed by the probe runner in a
    process of its own: both the median of bench.TIMED forwards after bench.WARMUP warm-ups, at THREADS threads. Each ratio
    compares two timings a few seconds apart, so a change of the machine's state between minutes moves both."""
    with open(os.path.join(out, RESULTS)) as f:
        results = json.load(f)
    threads = results["threads"]
    torch.set_num_threads(threads)
    train_x = bench.transform(bench.idx("train-images-idx3-ubyte.gz")[:256])
    probe = ["dotnet", "run", "-c", "Release", "--no-build", "--project", os.path.join(os.path.dirname(__file__), "int8-op-profile"), "--"]
    pairs = {}
    for name, build in MODELS.items():
        delivered = delivered_row(modelopt_table(out, name))
        best = best_pytorch_int8(results["models"][name]["forms"])
        if delivered is None or delivered[0] not in ARCHIVES or best is None:
            print(f"{name}: not paired (delivered {delivered and delivered[0]}, PyTorch best {best})", flush=True)
            continue
        archive, engine = ARCHIVES[delivered[0]]
        model = build()
        model.load_state_dict(torch.load(os.path.join(out, f"{name}-fp32.pth")))
        model.eval()
        int8 = fx_int8(model, best.split("-")[3], train_x)
        form = scripted(int8, train_x) if best.endswith("-scripted") else int8
        rows = []
        for _ in range(PAIRS):
            pytorch_ms = statistics.median(bench.timings(form))
            run = subprocess.run(probe + [os.path.join(out, f"work-{name}", archive), engine, str(bench.TIMED), "--time", str(bench.WARMUP)],
                                 capture_output=True, text=True, check=True, env={**os.environ, "THREADS": str(threads)})
            modelopt_ms = float(re.search(r"forward median ([0-9.]+) ms", run.stdout).group(1))
            rows.append([round(pytorch_ms, 2), modelopt_ms])
            print(f"{name}: {best} {pytorch_ms:.2f} ms, ModelOpt {delivered[0]} {modelopt_ms:.2f} ms", flush=True)
        pairs[name] = {"pytorch": best, "modelopt": delivered[0], "pairs": rows}
    with open(os.path.join(out, PAIRED), "w") as f:
        json.dump(pairs, f, indent=1)


def cpu_mhz():
    """The clock /proc/cpuinfo reports for the first core (a VM's may be the nominal one: CPU_MHZ overrides it)."""
    if "CPU_MHZ" in os.environ:
        return float(os.environ["CPU_MHZ"])
    with open("/proc/cpuinfo") as f:
        return next(float(line.split(":")[1]) for line in f if line.startswith("cpu MHz"))


def int8_limit(out, threads):
    """(GMAC/s, how it was obtained): the measured peak when bench-int8-limit.sh could run the probe, else the nominal one."""
    nominal = MACS_PER_CYCLE_PER_CORE * cpu_mhz() / 1000 * threads
    peak_file = os.path.join(out, "int8_peak_gmacs.txt")
    if os.path.exists(peak_file):
        with open(peak_file) as f:
            measured = float(f.read())
        return measured, (f"measured (scripts/int8-peak/vnni_peak.c, {threads} threads) = {measured:.0f} GMAC/s; the nominal "
                          f"{MACS_PER_CYCLE_PER_CORE} MAC/cycle/core x {cpu_mhz():.0f} MHz (/proc/cpuinfo) would be {nominal:.0f}")
    return nominal, f"nominal, not measured: {MACS_PER_CYCLE_PER_CORE} MAC/cycle/core x {cpu_mhz():.0f} MHz (/proc/cpuinfo) x {threads} threads = {nominal:.0f} GMAC/s"


def summarize(out):
    with open(os.path.join(out, RESULTS)) as f:
        results = json.load(f)
    threads, batch = results["threads"], bench.LATENCY_BATCH
    limit_gmacs, limit_source = int8_limit(out, threads)
    print(f"int8 limit: {limit_source}")
    print("| model | form | accuracy | latency (ms, batch 128) | images/s | MMAC/img | GMAC/s | share of int8 limit |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, model in results["models"].items():
        macs = model["macs_per_image"]
        rows = [(form, f"{r['accuracy'] * 100:.2f} %", r["latency_ms"]) for form, r in model["forms"].items() if "error" not in r]
        for form, r in model["forms"].items():
            if "error" in r:
                print(f"{name}: {form} failed: {r['error']}")
        best_fx = best_pytorch_int8(model["forms"])
        rows = [(form + (" (best PyTorch int8)" if form == best_fx else ""), accuracy, ms) for form, accuracy, ms in rows]
        table = modelopt_table(out, name)
        delivered = delivered_row(table)
        for form, backend, accuracy, ms, note in table:
            if form == "full":
                rows.append((f"modelopt-fp32-eager ({backend})", accuracy, ms))
            elif form == "candidate":
                rows.append((f"modelopt {backend}" + (" (delivered)" if note.startswith("selected") else ""), accuracy, ms))
        for form, accuracy, ms in rows:
            gmacs = macs * batch / (ms / 1000) / 1e9
            print(f"| {name} | {form} | {accuracy} | {ms:.2f} | {batch * 1000 / ms:.0f} | {macs / 1e6:.1f} | {gmacs:.1f} | {gmacs / limit_gmacs * 100:.1f} % |")
        if delivered:
            print(f"{name}: delivered {delivered[0]}: {delivered[1]}")
            if best_fx:
                best_ms = model["forms"][best_fx]["latency_ms"]
                print(f"{name}: delivered int8 {delivered[2]:.2f} ms against PyTorch FX int8 best {best_ms:.2f} ms: {best_ms / delivered[2]:.2f}x")
    paired_file = os.path.join(out, PAIRED)
    if not os.path.exists(paired_file):
        return
    with open(paired_file) as f:
        pairs = json.load(f)
    print(f"Paired (bench_int8_limit.py paired): {bench.TIMED}-forward medians, PyTorch then ModelOpt, seconds apart")
    print("| model | PyTorch form | ModelOpt form | PyTorch ms per pair | ModelOpt ms per pair | ratio per pair | median ratio | ModelOpt share of int8 limit (median) |")
    print("|---|---|---|---|---|---|---:|---:|")
    for name, p in pairs.items():
        ratios = [py / mo for py, mo in p["pairs"]]
        modelopt = statistics.median(mo for _, mo in p["pairs"])
        share = results["models"][name]["macs_per_image"] * batch / (modelopt / 1000) / 1e9 / limit_gmacs * 100
        print(f"| {name} | {p['pytorch']} | {p['modelopt']} | {' / '.join(f'{py:.2f}' for py, _ in p['pairs'])} | "
              f"{' / '.join(f'{mo:.2f}' for _, mo in p['pairs'])} | {' / '.join(f'{r:.2f}x' for r in ratios)} | "
              f"{statistics.median(ratios):.2f}x | {share:.1f} % |")


if __name__ == "__main__":
    {"train": train, "paired": paired, "summarize": summarize}[sys.argv[1]](sys.argv[2] if len(sys.argv) > 2 else "/tmp/modelopt-int8-limit")

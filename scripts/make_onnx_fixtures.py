#!/usr/bin/python3
"""Writes the ONNX import fixtures under tests/ModelOpt.Engine.Tests/TestData/onnx with real PyTorch.

Small random-weight CNNs of the shapes users bring (MobileNetV2-like, VGG-style, Inception-style, squeeze-excite),
exported by torch.onnx.export at several opsets, with and without constant folding, with a dynamic or a fixed batch
axis; one model with an op ModelOpt does not map (GELU), and two whose inputs it does not take (two images; token
ids), which `refused-inputs` writes alone. For every model it records PyTorch's FP32 logits and the
logits of PyTorch FX's int8 model of the same weights (prepare_fx / convert_fx, get_default_qconfig_mapping('onednn'),
calibrated on the same inputs), so the C# tests compare against PyTorch without needing it.

Run with Debian's PyTorch (python3-torch 1.13, python3-torchvision 0.14): /usr/bin/python3 scripts/make_onnx_fixtures.py
(or ... scripts/make_onnx_fixtures.py refused-inputs)
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "ModelOpt.Engine.Tests", "TestData", "onnx")
CHANNELS, SIZE, CLASSES, IMAGES = 1, 32, 10, 32


def conv_bn(cin, cout, k=3, stride=1, groups=1, act=None):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            conv_bn(cin, hidden, 1, act=nn.ReLU6),
            conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
            conv_bn(hidden, cout, 1))

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2Like(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(CHANNELS, 8, 3, 2, act=nn.ReLU6),
            InvertedResidual(8, 8, 1, 2),
            InvertedResidual(8, 12, 2, 3),
            InvertedResidual(12, 12, 1, 3),
            conv_bn(12, 32, 1, act=nn.ReLU6))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, CLASSES))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


class VggLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(CHANNELS, 8, act=nn.ReLU), conv_bn(8, 8, act=nn.ReLU), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, dilation=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
            nn.Conv2d(16, 8, 3, padding=2, dilation=2), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, CLASSES))

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.reshape(x.size(0), -1))  # Shape -> Gather -> Unsqueeze -> Concat -> Reshape


class InceptionBlock(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.b1 = conv_bn(cin, 8, 1, act=nn.ReLU6)
        self.b2 = nn.Sequential(conv_bn(cin, 6, 1, act=nn.ReLU6), conv_bn(6, 8, 3, act=nn.ReLU6))
        self.b3 = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=True), conv_bn(cin, 4, 1, act=nn.ReLU6))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv_bn(cin, 4, 1, act=nn.ReLU6))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class InceptionLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(CHANNELS, 12, 3, 2, 1), nn.LeakyReLU(0.1))
        self.block1 = InceptionBlock(12)
        self.pool = nn.AvgPool2d(3, 2, 1, count_include_pad=False)
        self.block2 = InceptionBlock(24)
        self.fc = nn.Linear(24, CLASSES)

    def forward(self, x):
        x = self.block2(self.pool(self.block1(self.stem(x))))
        return self.fc(x.mean((2, 3)))  # ReduceMean over H, W


class SqueezeExcite(nn.Module):
    def __init__(self, channels, squeezed):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s


class SqueezeExciteNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(CHANNELS, 16, 3, 2, act=nn.Hardswish)
        self.se = SqueezeExcite(16, 4)
        self.conv = conv_bn(16, 16, 3, 1, groups=4, act=nn.Hardsigmoid)
        self.head = nn.Linear(16, CLASSES)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.conv(self.se(self.stem(x))), 1)
        return torch.softmax(self.head(x.flatten(1)), dim=1)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(CHANNELS, 4, 3, padding=1)
        self.fc = nn.Linear(4, CLASSES)

    def forward(self, x):
        x = F.gelu(self.conv(x))  # Erf, Div, Mul, Add: not mapped
        return self.fc(x.mean((2, 3)))


class TwoImages(nn.Module):
    """Two image inputs: ModelOpt's jobs feed one."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(CHANNELS, 4, 3, padding=1)
        self.fc = nn.Linear(4, CLASSES)

    def forward(self, a, b):
        return self.fc((self.conv(a) + self.conv(b)).mean((2, 3)))


class TokenIds(nn.Module):
    """An int64 token-id input, as a text classifier has: not an image batch."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(100, 16)
        self.fc = nn.Linear(16, CLASSES)

    def forward(self, tokens):
        return self.fc(self.embedding(tokens).mean(1))


def export_refused_inputs():
    torch.manual_seed(0)
    image = torch.randn(1, CHANNELS, SIZE, SIZE)
    torch.onnx.export(TwoImages().eval(), (image, image), os.path.join(OUT, "two_images_opset13.onnx"), opset_version=13,
                      input_names=["a", "b"], output_names=["logits"])
    torch.onnx.export(TokenIds().eval(), (torch.randint(0, 100, (1, 12)),), os.path.join(OUT, "token_ids_opset13.onnx"),
                      opset_version=13, input_names=["tokens"], output_names=["logits"])


# Modern architectures for issue 22's trained benchmark (scripts/bench_onnx_models.py --set modern); not exported as
# fixtures by this script. Small enough to train in a few minutes on 2 cores at 1x32x32, 10 classes.

class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor, as torchvision's ConvNeXt writes it (permute, normalize, permute)."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """Depthwise 7x7 conv, LayerNorm over channels, pointwise Linear 4x expansion with GELU, layer scale, residual."""

    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.layer_scale = nn.Parameter(torch.full((dim, 1, 1), 0.1))

    def forward(self, x):
        y = self.norm(self.dwconv(x).permute(0, 2, 3, 1))
        y = self.pwconv2(F.gelu(self.pwconv1(y))).permute(0, 3, 1, 2)
        return x + self.layer_scale * y


class ConvNeXtLike(nn.Module):
    def __init__(self, dims=(32, 64), depths=(2, 2)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(CHANNELS, dims[0], 2, 2), LayerNorm2d(dims[0], eps=1e-6))  # 16x16
        self.stage1 = nn.Sequential(*[ConvNeXtBlock(dims[0]) for _ in range(depths[0])])
        self.down = nn.Sequential(LayerNorm2d(dims[0], eps=1e-6), nn.Conv2d(dims[0], dims[1], 2, 2))  # 8x8
        self.stage2 = nn.Sequential(*[ConvNeXtBlock(dims[1]) for _ in range(depths[1])])
        self.norm = nn.LayerNorm(dims[1], eps=1e-6)
        self.head = nn.Linear(dims[1], CLASSES)

    def forward(self, x):
        x = self.stage2(self.down(self.stage1(self.stem(x))))
        return self.head(self.norm(x.mean((2, 3))))


class Attention(nn.Module):
    """Hand-written multi-head self-attention: one qkv Linear, scaled q @ k^T, softmax, @ v, output Linear."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        # sizes from x.shape one at a time: FX's symbolic tracing cannot unpack a shape
        qkv = self.qkv(x).reshape(x.shape[0], x.shape[1], 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attention = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale, dim=-1)
        return self.proj(torch.matmul(attention, v).transpose(1, 2).flatten(2))


class TransformerBlock(nn.Module):
    """Pre-norm ViT block: x + attention(LN(x)), then x + MLP(LN(x)) with GELU."""

    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attention = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VitLike(nn.Module):
    """Patch embedding conv (4x4 patches: 64 tokens), class token, learned position embedding, pre-norm blocks."""

    def __init__(self, dim=64, depth=3, heads=4, mlp_ratio=2, patch=4):
        super().__init__()
        tokens = (SIZE // patch) ** 2
        self.patch_embed = nn.Conv2d(CHANNELS, dim, patch, patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.position = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[TransformerBlock(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1) + self.position
        return self.head(self.norm(self.blocks(x))[:, 0])


def channel_shuffle(x, groups):
    x = x.reshape(x.shape[0], groups, -1, x.shape[2], x.shape[3]).transpose(1, 2)
    return x.flatten(1, 2)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2 unit: stride 1 splits the channels in two and transforms one half; stride 2 transforms both copies."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        half = cout // 2
        if stride > 1:
            self.branch1 = nn.Sequential(conv_bn(cin, cin, 3, stride, groups=cin), conv_bn(cin, half, 1, act=nn.ReLU))
        branch_in = cin if stride > 1 else half
        self.branch2 = nn.Sequential(
            conv_bn(branch_in, half, 1, act=nn.ReLU), conv_bn(half, half, 3, stride, groups=half), conv_bn(half, half, 1, act=nn.ReLU))

    def forward(self, x):
        if self.stride == 1:
            halves = x.chunk(2, dim=1)  # indexed, not unpacked: FX's symbolic tracing cannot unpack
            out = torch.cat((halves[0], self.branch2(halves[1])), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2Like(nn.Module):
    def __init__(self, widths=(24, 48, 96), repeats=(3, 3), last=256):
        super().__init__()
        self.stem = conv_bn(CHANNELS, widths[0], 3, 2, act=nn.ReLU)  # 16x16
        stages = []
        for cin, cout, repeat in zip(widths, widths[1:], repeats):
            stages += [ShuffleUnit(cin, cout, 2)] + [ShuffleUnit(cout, cout, 1) for _ in range(repeat)]
        self.stages = nn.Sequential(*stages)  # 8x8, then 4x4
        self.conv = conv_bn(widths[-1], last, 1, act=nn.ReLU)
        self.fc = nn.Linear(last, CLASSES)

    def forward(self, x):
        return self.fc(self.conv(self.stages(self.stem(x))).mean((2, 3)))


def randomize(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.1)
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
                m.weight.copy_(torch.rand_like(m.weight) + 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.1)
            elif isinstance(m, nn.Linear):
                m.weight.mul_(4.0)  # spread the logits, so top-1 is a meaningful comparison on random weights
    return model.eval()


def export(model, name, inputs, opset, folding, dynamic):
    path = os.path.join(OUT, name)
    torch.onnx.export(model, inputs[:1], path, opset_version=opset, do_constant_folding=folding,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}} if dynamic else None)
    return {"file": name, "opset": opset, "constant_folding": folding, "dynamic_batch": dynamic,
            "bytes": os.path.getsize(path)}


def fx_int8(model, inputs):
    torch.backends.quantized.engine = "onednn"
    prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), example_inputs=(inputs[:1],))
    with torch.no_grad():
        prepared(inputs)
    converted = convert_fx(prepared)
    with torch.no_grad():
        return converted(inputs)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    inputs = torch.randn(IMAGES, CHANNELS, SIZE, SIZE)
    inputs.numpy().astype("<f4").tofile(os.path.join(OUT, f"inputs_{IMAGES}x{CHANNELS}x{SIZE}x{SIZE}.f32"))

    variants = {
        "mobilenet_v2_like": (MobileNetV2Like, [(11, True, False), (13, True, True), (17, False, True)]),
        "vgg_like": (VggLike, [(11, False, False), (13, True, True)]),
        "inception_like": (InceptionLike, [(13, True, True), (17, True, False)]),
        "squeeze_excite": (SqueezeExciteNet, [(13, True, True), (14, False, True)]),
    }
    expected = {"inputs": f"inputs_{IMAGES}x{CHANNELS}x{SIZE}x{SIZE}.f32", "torch": torch.__version__, "models": {}}
    for seed, (name, (cls, exports)) in enumerate(variants.items(), start=1):
        model = randomize(cls(), seed)
        with torch.no_grad():
            fp32 = model(inputs)
        files = [export(model, f"{name}_opset{o}{'_nofold' if not f else ''}{'_dynamic' if d else '_fixed'}.onnx", inputs, o, f, d)
                 for o, f, d in exports]
        int8 = fx_int8(model, inputs)
        agreement = (int8.argmax(1) == fp32.argmax(1)).float().mean().item()
        print(f"{name}: FX int8 vs FP32 top-1 agreement {agreement:.3f}")
        expected["models"][name] = {
            "files": files,
            "fp32_logits": [[round(v, 6) for v in row] for row in fp32.tolist()],
            "fx_int8_logits": [[round(v, 6) for v in row] for row in int8.tolist()],
        }
    unsupported = randomize(Unsupported(), 99)
    expected["unsupported"] = export(unsupported, "gelu_unsupported_opset13.onnx", inputs, 13, True, True)
    export_refused_inputs()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    if sys.argv[1:] == ["refused-inputs"]:
        export_refused_inputs()
    else:
        main()

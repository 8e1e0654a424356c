#!/usr/bin/python3
"""Fixtures for the uploaded-dataset tests, made by NumPy and torchvision themselves (Debian's python3-numpy,
python3-torch, python3-torchvision; run with /usr/bin/python3 from the repository root):

- fmnist_20.npz / fmnist_20_compressed.npz: the first two Fashion-MNIST test images of each class (20, in test-set
  order; indices in fmnist_20_indices.txt) as np.savez and np.savez_compressed write them (uint8 NHW, int64 labels;
  x_train = x_test), the first with class_names;
- rgb_nchw_float32.npz: 6 random RGB float32 images in [0, 1], NCHW, uint8 labels;
- preprocessed_*.f32: torchvision's tensor transforms of those images, float32 little-endian, for
  Resize(36) + CenterCrop(32) + Normalize, Grayscale + Resize((24, 20)) + Normalize, and the RGB images through
  Resize(40) + CenterCrop((30, 28)) + Normalize(per channel).
"""
import gzip
import os

import numpy as np
import torch
import torchvision.transforms as T

OUT = "tests/ModelOpt.Engine.Tests/TestData/datasets"
FMNIST = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def idx(name, offset):
    with gzip.open(os.path.join(FMNIST, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def save(name, tensor):
    tensor.detach().numpy().astype("<f4").tofile(os.path.join(OUT, name))


def main():
    os.makedirs(OUT, exist_ok=True)
    all_labels = idx("t10k-labels-idx1-ubyte.gz", 8)
    chosen = np.sort(np.concatenate([np.flatnonzero(all_labels == c)[:2] for c in range(10)]))
    np.savetxt(os.path.join(OUT, "fmnist_20_indices.txt"), chosen, fmt="%d")
    images = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)[chosen].copy()
    labels = all_labels[chosen].astype(np.int64)
    names = np.array(CLASSES)
    np.savez(os.path.join(OUT, "fmnist_20.npz"), x_train=images, y_train=labels, x_test=images, y_test=labels, class_names=names)
    np.savez_compressed(os.path.join(OUT, "fmnist_20_compressed.npz"), x_train=images, y_train=labels, x_test=images, y_test=labels)

    rng = np.random.default_rng(0)
    rgb = rng.random((6, 3, 50, 44), dtype=np.float32)
    rgb_labels = np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8)
    np.savez(os.path.join(OUT, "rgb_nchw_float32.npz"), x_train=rgb, y_train=rgb_labels, x_test=rgb, y_test=rgb_labels)

    first16 = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)[:16].copy()
    grey = torch.from_numpy(first16).unsqueeze(1).float() / 255
    crop = T.Compose([T.Resize(36, antialias=False), T.CenterCrop(32), T.Normalize((0.2860,), (0.3530,))])
    save("preprocessed_fmnist_resize36_crop32.f32", crop(grey))
    colour = torch.from_numpy(rgb)
    grey_exact = T.Compose([T.Grayscale(1), T.Resize((24, 20), antialias=False), T.Normalize((0.5,), (0.5,))])
    save("preprocessed_rgb_grayscale_24x20.f32", grey_exact(colour))
    per_channel = T.Compose([T.Resize(40, antialias=False), T.CenterCrop((30, 28)), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    save("preprocessed_rgb_resize40_crop30x28.f32", per_channel(colour))


if __name__ == "__main__":
    main()

"""Train the NumPy modern LeNet (ferkit.scratch, no PyTorch) on FER2013 Training; score it on PublicTest.

Run by hand (not a test):  python bench/bench_scratch_fer2013.py ../shared/datasets/fer2013 [--epochs 5]
Prints per-epoch loss, PublicTest accuracy and wall time; the numbers go to docs/cnn-from-scratch.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from ferkit.data import load_dataset
from ferkit.scratch import accuracy, fit, lenet5_modern
from ferkit.scratch.train import random_flip


def to_input(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """uint8 (N, 48, 48) -> standardised float32 (N, 1, 48, 48)."""
    return ((images.astype(np.float32) / 255.0 - mean) / std)[:, None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ds = load_dataset(args.data)
    train, val = ds.split("Training"), ds.split("PublicTest")
    pixels = train.images.astype(np.float32) / 255.0
    mean, std = float(pixels.mean()), float(pixels.std())
    x_train, x_val = to_input(train.images, mean, std), to_input(val.images, mean, std)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}; {len(x_train)} train, "
          f"{len(x_val)} PublicTest; batch {args.batch}, lr {args.lr}, momentum 0.9, flip augmentation")  # fmt: skip
    model = lenet5_modern(num_classes=len(ds.classes), input_size=48, seed=args.seed, dtype=np.float32)
    start = time.perf_counter()

    def report(epoch: int, loss: float) -> None:
        acc = accuracy(model, x_val, val.labels)
        print(f"epoch {epoch + 1}: loss {loss:.4f}, PublicTest {acc:.2%}, {time.perf_counter() - start:.0f} s")

    fit(model, x_train, train.labels, args.epochs, args.batch, args.lr, 0.9, 5e-4, args.seed, random_flip, report)


if __name__ == "__main__":
    main()

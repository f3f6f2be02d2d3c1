"""Tiny datasets and configs for training tests: a few dozen 48x48 faces and a very small network."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.config import load_config
from tests.conftest import write_fer_csv

TINY_MODEL = {"widths": [4, 8, 8, 16]}


def striped(label: int, seed: int) -> np.ndarray:
    """A 48x48 image whose class shows as the stripe's position, plus noise: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 60, (48, 48))
    img[:, label * 6 : label * 6 + 6] += 180
    return img.clip(0, 255).astype(np.uint8)


@pytest.fixture
def fer_csv(tmp_path):
    rows = [(i % 7, striped(i % 7, i), "Training" if i < 84 else "PublicTest") for i in range(112)]
    return write_fer_csv(tmp_path / "fer2013.csv", rows)


def tiny_config(data, out, **fields):
    base = {"data.path": str(data), "out": str(out), "model.name": "fastnet", "model.args": dict(TINY_MODEL),
            "train.epochs": 2, "train.batch_size": 16, "train.lr": 0.05, "train.warmup_epochs": 0.5}  # fmt: skip
    return load_config(**{**base, **fields})

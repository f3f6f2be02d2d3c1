"""The NumPy modern LeNet really learns: scikit-learn's bundled 8x8 digits, upsampled 3x to 24x24."""

import numpy as np
import pytest

from ferkit.scratch import accuracy, fit, lenet5_modern
from ferkit.scratch.train import random_flip

datasets = pytest.importorskip("sklearn.datasets")


def digits():
    d = datasets.load_digits()  # ships inside scikit-learn: no download
    x = np.kron(d.images, np.ones((3, 3)))[:, None].astype(np.float32) / 16.0  # (1797, 1, 24, 24)
    x = (x - x.mean()) / x.std()
    order = np.random.default_rng(0).permutation(len(x))
    test, train = order[:360], order[360:]
    return x[train], d.target[train], x[test], d.target[test]


def test_modern_lenet_learns_digits_to_97_percent():
    x_train, y_train, x_test, y_test = digits()
    model = lenet5_modern(num_classes=10, input_size=24, seed=0, dtype=np.float32)
    losses = fit(model, x_train, y_train, epochs=8, batch_size=32, lr=0.05, momentum=0.9, seed=0)
    assert losses[-1] < losses[0] / 10
    assert accuracy(model, x_test, y_test) >= 0.97


def test_random_flip_mirrors_about_half_the_batch():
    x = np.arange(2 * 1 * 2 * 3, dtype=float).reshape(2, 1, 2, 3).repeat(50, axis=0)
    out = random_flip(x, np.random.default_rng(0))
    flipped = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    assert 30 < flipped.sum() < 70 and np.all(flipped | np.all(out == x, axis=(1, 2, 3)))

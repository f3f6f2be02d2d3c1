"""A plain minibatch training loop for the NumPy models: cross-entropy, SGD with momentum, accuracy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ferkit.scratch import functional as F
from ferkit.scratch.layers import Sequential
from ferkit.scratch.optim import SGD


def predict_logits(model: Sequential, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Logits (N, classes) in eval mode, batch by batch."""
    model.eval()
    return np.concatenate([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def accuracy(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict_logits(model, x).argmax(1) == y).mean())


def fit(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int = 64,
    lr: float = 0.05,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    seed: int = 0,
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train on x (N, C, H, W), y (N,) class indices; returns the mean training loss of each epoch."""
    rng = np.random.default_rng(seed)
    optimizer = SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    losses = []
    for epoch in range(epochs):
        model.train()
        order, total = rng.permutation(len(x)), 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            xb = augment(x[batch], rng) if augment else x[batch]
            logits = model(xb)  # (B, classes)
            total += F.cross_entropy(logits, y[batch]) * len(batch)
            optimizer.zero_grad()
            model.backward(F.cross_entropy_backward(logits, y[batch]))
            optimizer.step()
        losses.append(total / len(x))
        if on_epoch:
            on_epoch(epoch, losses[-1])
    return losses


def random_flip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror half of the batch left-right (faces are roughly symmetric; digits are not: use it for faces)."""
    flip = rng.random(len(x)) < 0.5
    out = x.copy()
    out[flip] = out[flip, ..., ::-1]
    return out

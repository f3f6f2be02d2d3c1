"""LeNet-5 (LeCun et al. 1998) as the tutorials build it, and a modern form of it."""

from __future__ import annotations

import numpy as np

from ferkit.scratch.functional import conv_output_size
from ferkit.scratch.layers import AvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Sigmoid


def _feature_side(input_size: int) -> int:
    """Side of the 16 feature maps before the dense layers: conv 5 pad 2, pool 2, conv 5, pool 2."""
    side = conv_output_size(input_size, 5, 2, 1) // 2
    side = conv_output_size(side, 5, 0, 1) // 2
    if side < 1:
        raise ValueError(f"input size {input_size} is too small for LeNet-5; it needs at least 12 pixels")
    return side


def lenet5(
    num_classes: int = 10, in_chans: int = 1, input_size: int = 28, seed: int | None = 0, dtype=np.float64
) -> Sequential:
    """The classic LeNet-5: sigmoid and average pooling, 6 and 16 channels of 5x5 kernels, 120-84-classes dense."""
    rng = np.random.default_rng(seed)
    side = _feature_side(input_size)
    return Sequential(
        ("conv1", Conv2d(in_chans, 6, 5, padding=2, rng=rng, dtype=dtype)),
        ("sigmoid1", Sigmoid()),
        ("pool1", AvgPool2d(2, 2)),
        ("conv2", Conv2d(6, 16, 5, rng=rng, dtype=dtype)),
        ("sigmoid2", Sigmoid()),
        ("pool2", AvgPool2d(2, 2)),
        ("flatten", Flatten()),
        ("fc1", Linear(16 * side * side, 120, rng=rng, dtype=dtype)),
        ("sigmoid3", Sigmoid()),
        ("fc2", Linear(120, 84, rng=rng, dtype=dtype)),
        ("sigmoid4", Sigmoid()),
        ("fc3", Linear(84, num_classes, rng=rng, dtype=dtype)),
    )


def lenet5_modern(
    num_classes: int = 10, in_chans: int = 1, input_size: int = 28, seed: int | None = 0, dtype=np.float64
) -> Sequential:
    """LeNet-5 as one would build it today: the same shapes with batch norm, ReLU and max pooling."""
    rng = np.random.default_rng(seed)
    side = _feature_side(input_size)
    return Sequential(
        ("conv1", Conv2d(in_chans, 6, 5, padding=2, rng=rng, dtype=dtype)),
        ("bn1", BatchNorm2d(6, dtype=dtype)),
        ("relu1", ReLU()),
        ("pool1", MaxPool2d(2, 2)),
        ("conv2", Conv2d(6, 16, 5, rng=rng, dtype=dtype)),
        ("bn2", BatchNorm2d(16, dtype=dtype)),
        ("relu2", ReLU()),
        ("pool2", MaxPool2d(2, 2)),
        ("flatten", Flatten()),
        ("fc1", Linear(16 * side * side, 120, rng=rng, dtype=dtype)),
        ("relu3", ReLU()),
        ("fc2", Linear(120, 84, rng=rng, dtype=dtype)),
        ("relu4", ReLU()),
        ("fc3", Linear(84, num_classes, rng=rng, dtype=dtype)),
    )


MODELS = {"lenet5": lenet5, "lenet5-modern": lenet5_modern}

"""A convolutional network from scratch in NumPy only, mirroring PyTorch's names and proven equal to it.

from ferkit.scratch import functional as F, lenet5
F.corr2d(X, K); F.conv2d(x, w, b, stride=2, padding=1); model = lenet5(); model.backward(grad)
"""

from ferkit.scratch import functional
from ferkit.scratch.functional import (
    avg_pool2d,
    conv2d,
    conv_output_size,
    corr2d,
    cross_entropy,
    flatten,
    linear,
    max_pool2d,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from ferkit.scratch.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from ferkit.scratch.lenet import MODELS, lenet5, lenet5_modern
from ferkit.scratch.optim import SGD
from ferkit.scratch.summary import format_summary, summarize
from ferkit.scratch.train import accuracy, fit

__all__ = [
    "MODELS", "SGD", "AvgPool2d", "BatchNorm2d", "Conv2d", "Flatten", "Linear", "MaxPool2d", "Module", "Parameter",
    "ReLU", "Sequential", "Sigmoid", "Tanh", "accuracy", "avg_pool2d", "conv2d", "conv_output_size", "corr2d",
    "cross_entropy", "fit", "flatten", "format_summary", "functional", "lenet5", "lenet5_modern", "linear",
    "max_pool2d", "relu", "sigmoid", "softmax", "summarize", "tanh",
]  # fmt: skip

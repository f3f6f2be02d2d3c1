"""Layers with parameters and gradients, built on `functional`: each remembers what its backward needs.

`forward(x)` computes and caches; `backward(grad_out)` adds the parameters' gradients into `.grad` (accumulating,
as PyTorch does until `zero_grad`) and returns the gradient with respect to the input.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ferkit.scratch import functional as F
from ferkit.scratch.functional import IntPair, _pair


class Parameter:
    """A trainable array and its accumulated gradient."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.grad = np.zeros_like(data)


class Module:
    training = True

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        return [v for v in vars(self).values() if isinstance(v, Parameter)]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad[...] = 0

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def _uniform_init(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, dtype) -> np.ndarray:
    """PyTorch's default for Conv2d and Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases."""
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(dtype)


class Conv2d(Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: IntPair = 0,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        dtype=np.float64,
    ) -> None:
        rng = rng or np.random.default_rng()
        kh, kw = _pair(kernel_size)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (kh, kw), _pair(stride), _pair(padding)
        fan_in = in_channels * kh * kw
        self.weight = Parameter(_uniform_init(rng, (out_channels, in_channels, kh, kw), fan_in, dtype))
        self.bias = Parameter(_uniform_init(rng, (out_channels,), fan_in, dtype)) if bias else None
        self._work: dict = {}  # work arrays reused from batch to batch (see functional._work)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x  # (N, C, H, W)
        bias = self.bias.data if self.bias is not None else None
        out, self._cols = F.conv2d_with_columns(x, self.weight.data, bias, self.stride, self.padding, self._work)
        return out  # (N, O, Ho, Wo)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad_x, grad_w, grad_b = F.conv2d_backward(
            grad_out, self._x, self.weight.data, self.stride, self.padding, cols=self._cols, ws=self._work
        )
        self.weight.grad += grad_w
        if self.bias is not None:
            self.bias.grad += grad_b
        return grad_x

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}"
        )


class Linear(Module):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        dtype=np.float64,
    ) -> None:
        rng = rng or np.random.default_rng()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_uniform_init(rng, (out_features, in_features), in_features, dtype))
        self.bias = Parameter(_uniform_init(rng, (out_features,), in_features, dtype)) if bias else None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x  # (N, in)
        return F.linear(x, self.weight.data, self.bias.data if self.bias is not None else None)  # (N, out)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad_x, grad_w, grad_b = F.linear_backward(grad_out, self._x, self.weight.data)
        self.weight.grad += grad_w
        if self.bias is not None:
            self.bias.grad += grad_b
        return grad_x

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class _Pool2d(Module):
    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> None:
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        self.padding = _pair(padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return F.max_pool2d_backward(grad_out, self._x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return F.avg_pool2d_backward(grad_out, self._x, self.kernel_size, self.stride, self.padding)


class ReLU(Module):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.relu(x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return F.relu_backward(grad_out, self._x)


class Sigmoid(Module):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = F.sigmoid(x)
        return self._y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return F.sigmoid_backward(grad_out, self._y)


class Tanh(Module):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = F.tanh(x)
        return self._y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return F.tanh_backward(grad_out, self._y)


class Flatten(Module):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._shape = x.shape
        return F.flatten(x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out.reshape(self._shape)


class BatchNorm2d(Module):
    """Per-channel normalisation: batch statistics in training (updating running ones), running ones in eval."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float64) -> None:
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype))
        self.bias = Parameter(np.zeros(num_features, dtype))
        self.running_mean = np.zeros(num_features, dtype)
        self.running_var = np.ones(num_features, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.training:
            mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))  # (C,), biased variance normalises
            m = x.size // x.shape[1]
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            # PyTorch tracks the unbiased variance
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * m / max(m - 1, 1)
        else:
            mean, var = self.running_mean, self.running_var
        self._inv_std = 1 / np.sqrt(var + self.eps)  # (C,)
        self._x_hat = (x - mean[:, None, None]) * self._inv_std[:, None, None]  # (N, C, H, W)
        return self.weight.data[:, None, None] * self._x_hat + self.bias.data[:, None, None]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self.weight.grad += (grad_out * self._x_hat).sum(axis=(0, 2, 3))
        self.bias.grad += grad_out.sum(axis=(0, 2, 3))
        g = grad_out * self.weight.data[:, None, None]  # gradient w.r.t. x_hat
        inv_std = self._inv_std[:, None, None]
        if not self.training:  # fixed statistics: a per-channel affine map
            return g * inv_std
        # The batch mean and variance depend on x too; their terms subtract the gradient's mean and its
        # projection on x_hat.
        mean_g = g.mean(axis=(0, 2, 3), keepdims=True)
        mean_gx = (g * self._x_hat).mean(axis=(0, 2, 3), keepdims=True)
        return inv_std * (g - mean_g - self._x_hat * mean_gx)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class Sequential(Module):
    """Layers applied in order; built from modules or (name, module) pairs."""

    def __init__(self, *layers: Module | tuple[str, Module]) -> None:
        self.layers: list[tuple[str, Module]] = [
            layer if isinstance(layer, tuple) else (str(i), layer) for i, layer in enumerate(layers)
        ]

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return iter(self.layers)

    def __getitem__(self, index: int) -> Module:
        return self.layers[index][1]

    def __len__(self) -> int:
        return len(self.layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for _, layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        for _, layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def parameters(self) -> list[Parameter]:
        return [p for _, layer in self.layers for p in layer.parameters()]

    def train(self, mode: bool = True) -> Sequential:
        self.training = mode
        for _, layer in self.layers:
            layer.train(mode)
        return self

    def __repr__(self) -> str:
        rows = "\n".join(f"  ({name}): {layer!r}" for name, layer in self.layers)
        return f"Sequential(\n{rows}\n)"

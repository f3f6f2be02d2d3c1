"""Convolutional network operations in plain NumPy, forward and backward, with PyTorch's names and conventions.

Tensors are NCHW; a conv weight is (out_channels, in_channels, kh, kw) and a linear weight (out, in), as in
torch.nn. Every `*_backward(grad_out, ...)` returns the gradients of the loss with respect to the forward's
inputs, in the forward's argument order. The `*_naive` versions are the tutorials' loops, kept as the reference
the vectorised versions are tested against.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

IntPair = int | tuple[int, int]


def _pair(value: IntPair) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def conv_output_size(n: int, k: int, p: int = 0, s: int = 1) -> int:
    """Output length of a convolution or pooling along one axis: floor((n - k + 2p) / s) + 1."""
    return (n - k + 2 * p) // s + 1


# ---------------------------------------------------------------------------------------------- convolution


def corr2d(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """2-D cross-correlation of one (H, W) image with one (h, w) kernel: the tutorials' loop, no padding."""
    h, w = K.shape
    Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=np.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def pad2d(x: np.ndarray, padding: IntPair, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of (N, C, H, W) by (ph, pw) on each side."""
    ph, pw = _pair(padding)
    if ph == pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Every kernel-sized window of an (already padded) (N, C, H, W) array: a view of shape (N, C, Ho, Wo, kh, kw)."""
    return sliding_window_view(x, kernel, axis=(2, 3))[:, :, :: stride[0], :: stride[1]]


def _check_conv(x: np.ndarray, weight: np.ndarray) -> None:
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d wants x (N, C, H, W) and weight (O, C, kh, kw); got {x.shape} and {weight.shape}")


def _work(ws: dict | None, key: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised work array, kept in `ws` between calls when the caller keeps one (as Conv2d does).

    Reuse matters for speed: every fresh multi-megabyte array costs a page fault per 4 KiB page, which on a
    LeNet layer took as long as the matrix products themselves.
    """
    if ws is None:
        return np.empty(shape, dtype)
    buf = ws.get(key)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = ws[key] = np.empty(shape, dtype)
    return buf


def _wide_columns(x: np.ndarray, padding: tuple[int, int], kh: int, kw: int, ws: dict | None = None) -> np.ndarray:
    """im2col of (N, C, H, W) for a stride-1 kernel: (C*kh*kw, N, Ho, Wp), Hp, Wp the padded size, Ho = Hp - kh + 1.

    Each output row is computed Wp wide instead of Wo = Wp - kw + 1 wide: the kw - 1 extra columns are garbage
    that callers crop, but then every kernel offset (i, j) reads one contiguous run of the flattened padded
    image, so the columns are a single strided view copied once, and col2im adds contiguous runs back.
    """
    (n, c, h, w), (ph, pw) = x.shape, padding
    hp, wp = h + 2 * ph, w + 2 * pw
    ho = hp - kh + 1
    flat = _work(ws, "flat", (c, n, hp * wp + kw - 1), x.dtype)  # (C, N, Hp*Wp + tail): the last run overhangs
    flat.fill(0)
    flat[:, :, : hp * wp].reshape(c, n, hp, wp)[:, :, ph : ph + h, pw : pw + w] = x.transpose(1, 0, 2, 3)
    s_c, s_n, e = flat.strides
    view = as_strided(flat, (c, kh, kw, n, ho * wp), (s_c, wp * e, e, s_n, e), writeable=False)
    cols = _work(ws, "cols", (c * kh * kw, n, ho, wp), x.dtype)
    np.copyto(cols.reshape(c, kh, kw, n, ho * wp), view)
    return cols


def conv2d(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: IntPair = 1, padding: IntPair = 0
) -> np.ndarray:
    """torch.nn.functional.conv2d (groups=1, dilation=1), vectorised as im2col + one matrix product."""
    return conv2d_with_columns(x, weight, bias, stride, padding)[0]


def conv2d_with_columns(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    ws: dict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """conv2d's output and its im2col columns, which conv2d_backward can reuse instead of rebuilding.

    `ws` (any dict the caller keeps) holds work arrays between calls; the columns live there until the next call.
    """
    _check_conv(x, weight)
    (sh, sw), (ph, pw), (kh, kw) = _pair(stride), _pair(padding), weight.shape[2:]
    ho, wo = conv_output_size(x.shape[2], kh, ph, sh), conv_output_size(x.shape[3], kw, pw, sw)
    cols = _wide_columns(x, (ph, pw), kh, kw, ws)  # (C*kh*kw, N, Ho1, Wp)
    picked = cols[:, :, ::sh, ::sw]  # (C*kh*kw, N, Ho, Ws): the strided positions, Ws >= Wo
    o = len(weight)
    out = _work(ws, "out", (o, picked[0].size), np.result_type(x, weight))  # (O, N*Ho*Ws)
    np.matmul(weight.reshape(o, -1), picked.reshape(len(cols), -1), out=out)
    if bias is not None:
        out += bias[:, None]
    out = out.reshape(o, len(x), ho, -1)[..., :wo].transpose(1, 0, 2, 3)  # (N, O, Ho, Wo)
    return np.ascontiguousarray(out), cols


def conv2d_naive(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: IntPair = 1, padding: IntPair = 0
) -> np.ndarray:
    """The same as conv2d, written as loops over images, output channels and output pixels."""
    _check_conv(x, weight)
    (sh, sw), (kh, kw) = _pair(stride), weight.shape[2:]
    xp = pad2d(x, padding)
    ho, wo = conv_output_size(xp.shape[2], kh, 0, sh), conv_output_size(xp.shape[3], kw, 0, sw)
    out = np.zeros((len(x), len(weight), ho, wo), dtype=np.result_type(x, weight))
    for n in range(len(x)):
        for o in range(len(weight)):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[n, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (C, kh, kw)
                    out[n, o, i, j] = (patch * weight[o]).sum() + (bias[o] if bias is not None else 0)
    return out


def conv2d_backward(
    grad_out: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    stride: IntPair = 1,
    padding: IntPair = 0,
    cols: np.ndarray | None = None,
    ws: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (grad_x, grad_weight, grad_bias) of conv2d, given grad_out (N, O, Ho, Wo).

    `cols` is the forward's im2col (from conv2d_with_columns); without it the columns are built again.
    """
    (sh, sw), (ph, pw), (kh, kw) = _pair(stride), _pair(padding), weight.shape[2:]
    n, c, h, w = x.shape
    hp, wp = h + 2 * ph, w + 2 * pw
    o, ho, wo = weight.shape[0], *grad_out.shape[2:]
    if cols is None:
        cols = _wide_columns(x, (ph, pw), kh, kw, ws)  # (C*kh*kw, N, Ho1, Wp) at stride 1
    picked = cols[:, :, ::sh, ::sw]  # (C*kh*kw, N, Ho, Ws): the positions the strided conv used
    g = _work(ws, "grad_out", (o, n, ho, picked.shape[3]), grad_out.dtype)  # (O, N, Ho, Ws)
    g[..., wo:] = 0  # the garbage columns had no effect on the loss
    g[..., :wo] = grad_out.transpose(1, 0, 2, 3)
    g = g.reshape(o, -1)
    grad_weight = (picked.reshape(len(cols), -1) @ g.T).T.reshape(weight.shape)  # this order is faster in BLAS
    grad_picked = _work(ws, "grad_cols", (len(cols), g.shape[1]), g.dtype)  # (C*kh*kw, N*Ho*Ws)
    np.matmul(weight.reshape(o, -1).T, g, out=grad_picked)
    if (sh, sw) == (1, 1):
        grad_cols = grad_picked.reshape(c, kh, kw, n, -1)
    else:  # positions the strided conv skipped get no gradient
        grad_cols = np.zeros(cols.shape, grad_out.dtype)
        grad_cols[:, :, ::sh, ::sw] = grad_picked.reshape(picked.shape)
        grad_cols = grad_cols.reshape(c, kh, kw, n, -1)
    # col2im: kernel offset (i, j) read the contiguous run starting at i*Wp + j (see _wide_columns); its
    # gradient goes back to the same run.
    grad_flat = _work(ws, "grad_flat", (c, n, hp * wp + kw - 1), grad_out.dtype)  # (C, N, Hp*Wp + tail)
    grad_flat.fill(0)
    run = grad_cols.shape[-1]
    for i in range(kh):
        for j in range(kw):
            grad_flat[:, :, i * wp + j : i * wp + j + run] += grad_cols[:, i, j]
    grad_xp = grad_flat[:, :, : hp * wp].reshape(c, n, hp, wp).transpose(1, 0, 2, 3)
    grad_x = np.ascontiguousarray(grad_xp[:, :, ph : hp - ph, pw : wp - pw])
    return grad_x, grad_weight, grad_out.sum(axis=(0, 2, 3))


# -------------------------------------------------------------------------------------------------- pooling


def _pool_args(kernel_size: IntPair, stride: IntPair | None, padding: IntPair):
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)  # PyTorch: stride defaults to the kernel size
    padding = _pair(padding)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"pad should be at most half of the kernel size, got padding={padding}, kernel={kernel}")
    return kernel, stride, padding


def max_pool2d(x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> np.ndarray:
    """torch.nn.functional.max_pool2d: padding is -inf, so it never wins a window."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    return windows(pad2d(x, padding, -np.inf), kernel, stride).max(axis=(4, 5))


def avg_pool2d(x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> np.ndarray:
    """torch.nn.functional.avg_pool2d with its defaults: zero padding counted in the average (count_include_pad)."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    return windows(pad2d(x, padding), kernel, stride).mean(axis=(4, 5))


def pool2d_naive(x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0, mode="max"):
    """Max or average pooling as the tutorials' loop over output pixels."""
    (kh, kw), (sh, sw), padding = _pool_args(kernel_size, stride, padding)
    xp = pad2d(x, padding, -np.inf if mode == "max" else 0.0)
    ho, wo = conv_output_size(xp.shape[2], kh, 0, sh), conv_output_size(xp.shape[3], kw, 0, sw)
    out = np.zeros((*x.shape[:2], ho, wo), dtype=x.dtype)
    reduce = np.max if mode == "max" else np.mean
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = reduce(xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw], axis=(2, 3))
    return out


def max_pool2d_backward(
    grad_out: np.ndarray, x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> np.ndarray:
    """Gradient of max_pool2d: each window's gradient goes to its (first) maximum, as in PyTorch."""
    (kh, kw), (sh, sw), (ph, pw) = _pool_args(kernel_size, stride, padding)
    xp = pad2d(x, (ph, pw), -np.inf)
    win = windows(xp, (kh, kw), (sh, sw))  # (N, C, Ho, Wo, kh, kw)
    ho, wo = win.shape[2:4]
    argmax = win.reshape(*win.shape[:4], -1).argmax(axis=-1)  # (N, C, Ho, Wo)
    grad_xp = np.zeros_like(xp)
    for i in range(kh):
        for j in range(kw):
            grad_xp[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += grad_out * (argmax == i * kw + j)
    return grad_xp[:, :, ph : xp.shape[2] - ph, pw : xp.shape[3] - pw]


def avg_pool2d_backward(
    grad_out: np.ndarray, x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> np.ndarray:
    """Gradient of avg_pool2d: each window spreads its gradient evenly over its kh*kw cells."""
    (kh, kw), (sh, sw), (ph, pw) = _pool_args(kernel_size, stride, padding)
    ho, wo = grad_out.shape[2:]
    grad_xp = np.zeros_like(pad2d(x, (ph, pw)))
    for i in range(kh):
        for j in range(kw):
            grad_xp[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += grad_out / (kh * kw)
    return grad_xp[:, :, ph : grad_xp.shape[2] - ph, pw : grad_xp.shape[3] - pw]


# ----------------------------------------------------------------------------------- activations and dense


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def relu_backward(grad_out: np.ndarray, x: np.ndarray) -> np.ndarray:
    return grad_out * (x > 0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only, so large |x| neither overflows nor warns
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(grad_out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Takes the forward's output y = sigmoid(x): dy/dx = y (1 - y)."""
    return grad_out * y * (1 - y)


def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


def tanh_backward(grad_out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Takes the forward's output y = tanh(x): dy/dx = 1 - y^2."""
    return grad_out * (1 - y * y)


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """torch.nn.functional.linear: x (N, in) @ weight (out, in).T + bias (out,)."""
    out = x @ weight.T
    return out + bias if bias is not None else out


def linear_backward(grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray):
    """(grad_x, grad_weight, grad_bias) of linear."""
    return grad_out @ weight, grad_out.T @ x, grad_out.sum(axis=0)


def flatten(x: np.ndarray, start_dim: int = 1) -> np.ndarray:
    return x.reshape(*x.shape[:start_dim], -1)


# ------------------------------------------------------------------------------------------------- losses


def softmax(x: np.ndarray, dim: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=dim, keepdims=True))  # shifting by the max changes nothing but avoids overflow
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax(x: np.ndarray, dim: int = -1) -> np.ndarray:
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> float:
    """torch.nn.functional.cross_entropy with class-index targets and mean reduction."""
    return float(-log_softmax(logits)[np.arange(len(target)), target].mean())


def cross_entropy_backward(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d(mean cross-entropy)/d(logits) = (softmax - one_hot) / N."""
    grad = softmax(logits)
    grad[np.arange(len(target)), target] -= 1
    return grad / len(target)


def zero_one_loss(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1 where the prediction is wrong, 0 where right; it has no useful gradient, hence the others."""
    return (y_hat != y).astype(np.float64)


def squared_loss(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(y_hat - y)^2 / 2, the half making its gradient y_hat - y."""
    return (y_hat - y) ** 2 / 2


def squared_loss_backward(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    return y_hat - y


def absolute_loss(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.abs(y_hat - y)


def absolute_loss_backward(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sign(y_hat - y)


def log_loss(p: np.ndarray, y: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Binary log loss -[y log p + (1 - y) log(1 - p)] of a probability p, as torch's binary_cross_entropy."""
    p = np.clip(p, eps, 1 - eps)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def log_loss_backward(p: np.ndarray, y: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    p = np.clip(p, eps, 1 - eps)
    return (p - y) / (p * (1 - p))

"""ferkit.scratch.functional equals PyTorch in float64, forward and backward, and the naive loops equal the
vectorised code."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from ferkit.scratch import functional as F

TOL = 1e-6


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def t(a, grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max(initial=0) <= TOL


CONV_GRID = [
    # (N, C, H, W), (O, kh, kw), stride, padding
    ((2, 1, 7, 7), (3, 3, 3), 1, 0),
    ((2, 3, 8, 9), (4, 3, 3), 2, 1),
    ((1, 2, 9, 7), (5, 2, 3), (2, 1), (1, 2)),  # non-square kernel, stride and padding
    ((3, 4, 6, 6), (2, 1, 1), 1, 0),  # 1x1 convolution
    ((2, 3, 10, 11), (6, 5, 5), (3, 2), 2),
    ((1, 6, 14, 14), (16, 5, 5), 1, 0),  # LeNet's second layer
]


@pytest.mark.parametrize("xshape, wshape, stride, padding", CONV_GRID)
def test_conv2d_forward_and_backward_equal_torch(xshape, wshape, stride, padding):
    x, w, b = rand(*xshape), rand(wshape[0], xshape[1], *wshape[1:], seed=1), rand(wshape[0], seed=2)
    out = F.conv2d(x, w, b, stride, padding)
    tx, tw, tb = t(x), t(w), t(b)
    tout = TF.conv2d(tx, tw, tb, stride=stride, padding=padding)
    assert_close(out, tout)
    assert_close(F.conv2d_naive(x, w, b, stride, padding), out)
    g = rand(*out.shape, seed=3)
    tout.backward(torch.tensor(g))
    gx, gw, gb = F.conv2d_backward(g, x, w, stride, padding)
    assert_close(gx, tx.grad)
    assert_close(gw, tw.grad)
    assert_close(gb, tb.grad)


POOL_GRID = [
    # (N, C, H, W), kernel, stride, padding
    ((2, 3, 6, 6), 2, None, 0),
    ((2, 3, 7, 7), 2, None, 0),  # odd size: the last row and column are dropped, as in PyTorch
    ((1, 2, 7, 8), 3, 2, 1),
    ((2, 1, 6, 7), (2, 3), (1, 2), (1, 1)),
    ((1, 2, 5, 5), 3, 1, 0),  # overlapping windows: gradients add up
]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("xshape, kernel, stride, padding", POOL_GRID)
def test_pooling_forward_and_backward_equal_torch(mode, xshape, kernel, stride, padding):
    x = rand(*xshape)
    ours, backward = (F.max_pool2d, F.max_pool2d_backward) if mode == "max" else (F.avg_pool2d, F.avg_pool2d_backward)
    theirs = TF.max_pool2d if mode == "max" else TF.avg_pool2d
    out = ours(x, kernel, stride, padding)
    tx = t(x)
    tout = theirs(tx, kernel, stride, padding)
    assert_close(out, tout)
    assert_close(F.pool2d_naive(x, kernel, stride, padding, mode), out)
    g = rand(*out.shape, seed=1)
    tout.backward(torch.tensor(g))
    assert_close(backward(g, x, kernel, stride, padding), tx.grad)


def test_pool_padding_larger_than_half_the_kernel_is_refused_as_in_torch():
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(rand(1, 1, 4, 4), 2, padding=2)


@pytest.mark.parametrize(
    "ours, ours_back, theirs, uses_output",
    [
        (F.relu, F.relu_backward, torch.relu, False),
        (F.sigmoid, F.sigmoid_backward, torch.sigmoid, True),
        (F.tanh, F.tanh_backward, torch.tanh, True),
    ],
)
def test_activations_equal_torch(ours, ours_back, theirs, uses_output):
    x = rand(4, 5) * 10
    x[0, 0] = 800.0  # sigmoid must neither overflow nor warn
    tx = t(x)
    y, ty = ours(x), theirs(tx)
    assert_close(y, ty)
    g = rand(4, 5, seed=1)
    ty.backward(torch.tensor(g))
    assert_close(ours_back(g, y if uses_output else x), tx.grad)


def test_linear_and_flatten_equal_torch():
    x, w, b = rand(3, 2, 2, 2), rand(5, 8, seed=1), rand(5, seed=2)
    flat = F.flatten(x)
    tx, tw, tb = t(x), t(w), t(b)
    tout = TF.linear(torch.flatten(tx, 1), tw, tb)
    out = F.linear(flat, w, b)
    assert_close(out, tout)
    g = rand(3, 5, seed=3)
    tout.backward(torch.tensor(g))
    gx, gw, gb = F.linear_backward(g, flat, w)
    assert_close(gx.reshape(x.shape), tx.grad)
    assert_close(gw, tw.grad)
    assert_close(gb, tb.grad)


def test_softmax_and_cross_entropy_equal_torch():
    logits, target = rand(6, 7) * 30, np.array([0, 3, 6, 2, 2, 5])
    tl = t(logits)
    assert_close(F.softmax(logits), torch.softmax(tl, -1))
    assert_close(F.log_softmax(logits), torch.log_softmax(tl, -1))
    loss = TF.cross_entropy(tl, torch.tensor(target))
    assert abs(F.cross_entropy(logits, target) - loss.item()) <= TOL
    loss.backward()
    assert_close(F.cross_entropy_backward(logits, target), tl.grad)


def test_tutorial_losses_equal_torch():
    y_hat, y = rand(10), rand(10, seed=1)
    ty = t(y_hat)
    sq = 0.5 * TF.mse_loss(ty, torch.tensor(y), reduction="none")
    assert_close(F.squared_loss(y_hat, y), sq)
    sq.sum().backward()
    assert_close(F.squared_loss_backward(y_hat, y), ty.grad)
    ty = t(y_hat)
    ab = TF.l1_loss(ty, torch.tensor(y), reduction="none")
    assert_close(F.absolute_loss(y_hat, y), ab)
    ab.sum().backward()
    assert_close(F.absolute_loss_backward(y_hat, y), ty.grad)
    p, labels = F.sigmoid(rand(10, seed=2)), (rand(10, seed=3) > 0).astype(float)
    tp = t(p)
    bce = TF.binary_cross_entropy(tp, torch.tensor(labels), reduction="none")
    assert_close(F.log_loss(p, labels), bce)
    bce.sum().backward()
    assert_close(F.log_loss_backward(p, labels), tp.grad)
    assert F.zero_one_loss(np.array([1, 2, 3]), np.array([1, 0, 3])).tolist() == [0, 1, 0]


@pytest.mark.parametrize("n, k, p, s", [(28, 5, 2, 1), (14, 5, 0, 1), (7, 2, 0, 2), (10, 3, 1, 3), (9, 4, 2, 2)])
def test_conv_output_size_matches_torch(n, k, p, s):
    out = TF.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p)
    assert F.conv_output_size(n, k, p, s) == out.shape[-1] == (n - k + 2 * p) // s + 1


def numerical_grad(f, x, eps=1e-6):
    """Central differences of the scalar f() with respect to every entry of x (changed in place, restored)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        hi = f()
        x[idx] = old - eps
        lo = f()
        x[idx] = old
        grad[idx] = (hi - lo) / (2 * eps)
    return grad


def test_numerical_gradients_of_conv_and_pooling():
    x, w, b = rand(2, 2, 5, 6), rand(3, 2, 3, 2, seed=1), rand(3, seed=2)
    g = rand(*F.conv2d(x, w, b, (2, 1), 1).shape, seed=3)

    def conv_loss():
        return float((F.conv2d(x, w, b, (2, 1), 1) * g).sum())

    gx, gw, gb = F.conv2d_backward(g, x, w, (2, 1), 1)
    np.testing.assert_allclose(gx, numerical_grad(conv_loss, x), atol=1e-6)
    np.testing.assert_allclose(gw, numerical_grad(conv_loss, w), atol=1e-6)
    np.testing.assert_allclose(gb, numerical_grad(conv_loss, b), atol=1e-6)
    for pool, back in ((F.max_pool2d, F.max_pool2d_backward), (F.avg_pool2d, F.avg_pool2d_backward)):
        gp = rand(*pool(x, 3, 2, 1).shape, seed=4)
        num = numerical_grad(lambda pool=pool, gp=gp: float((pool(x, 3, 2, 1) * gp).sum()), x)
        np.testing.assert_allclose(back(gp, x, 3, 2, 1), num, atol=1e-6)

"""The classic CNN tutorials' worked examples, with their exact numbers."""

import numpy as np
import pytest

from ferkit.scratch import functional as F
from ferkit.scratch.layers import Conv2d, Linear
from ferkit.scratch.summary import dense_params

X = np.arange(9.0).reshape(3, 3)


def test_corr2d_worked_example():
    K = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(F.corr2d(X, K), [[19, 25], [37, 43]])
    np.testing.assert_array_equal(F.conv2d(X[None, None], K[None, None])[0, 0], [[19, 25], [37, 43]])


def test_padding_one_and_stride_three_by_two():
    K = np.array([[0.0, 1.0], [2.0, 3.0]])
    out = F.conv2d(X[None, None], K[None, None], stride=(3, 2), padding=1)
    np.testing.assert_array_equal(out[0, 0], [[0, 8], [6, 8]])


def test_two_input_channels():
    x = np.stack([X, X + 1])[None]  # (1, 2, 3, 3): [[0..8]] and [[1..9]]
    K = np.array([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])[None]  # (1, 2, 2, 2)
    np.testing.assert_array_equal(F.conv2d(x, K)[0, 0], [[56, 72], [104, 120]])
    np.testing.assert_array_equal(F.corr2d(x[0, 0], K[0, 0]) + F.corr2d(x[0, 1], K[0, 1]), [[56, 72], [104, 120]])


def test_one_by_one_convolution_is_a_fully_connected_layer_at_every_pixel():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((6, 3, 1, 1))
    per_pixel = F.linear(x.transpose(0, 2, 3, 1).reshape(-1, 3), w[:, :, 0, 0])  # (N*H*W, 6)
    np.testing.assert_allclose(F.conv2d(x, w), per_pixel.reshape(2, 4, 5, 6).transpose(0, 3, 1, 2), atol=1e-12)


def test_two_by_two_max_and_average_pooling_stride_one():
    np.testing.assert_array_equal(F.max_pool2d(X[None, None], 2, 1)[0, 0], [[4, 5], [7, 8]])
    np.testing.assert_array_equal(F.avg_pool2d(X[None, None], 2, 1)[0, 0], [[2, 3], [5, 6]])


def test_backprop_worked_example():
    x = np.array([[1.0, -1.0]])
    hidden, out = Linear(2, 2, bias=False), Linear(2, 1, bias=False)
    hidden.weight.data[:] = [[0.1, -0.1], [-0.1, 0.1]]  # rows: (w11, w12), (w21, w22)
    out.weight.data[:] = [[0.8, 0.9]]  # (wh1, wh2)
    h = hidden(x)
    y = out(h)
    np.testing.assert_allclose(h, [[0.2, -0.2]])
    np.testing.assert_allclose(y, [[-0.02]])
    E = F.squared_loss(y, 0.0)  # E = (y - t)^2 / 2 with target t = 0
    np.testing.assert_allclose(E, [[0.0002]])
    hidden.backward(out.backward(F.squared_loss_backward(y, 0.0)))
    np.testing.assert_allclose(out.weight.grad, [[-0.004, 0.004]])  # dE/dwh1 = (y - t) h1 = -0.02 * 0.2
    np.testing.assert_allclose(hidden.weight.grad, [[-0.016, 0.016], [-0.018, 0.018]])


def edge_image():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    return X


def test_edge_detection_with_a_one_by_two_kernel():
    X, K = edge_image(), np.array([[1.0, -1.0]])
    Y = F.corr2d(X, K)
    expected = np.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1, -1  # white->black at column 1, black->white at column 5
    np.testing.assert_array_equal(Y, expected)


@pytest.mark.parametrize("seed", range(5))
def test_learning_the_edge_kernel_back_by_gradient_descent(seed):
    X = edge_image()
    Y = F.corr2d(X, np.array([[1.0, -1.0]]))
    conv = Conv2d(1, 1, (1, 2), bias=False, rng=np.random.default_rng(seed))  # a random start
    x, y = X[None, None], Y[None, None]
    for _ in range(10):
        y_hat = conv(x)
        conv.zero_grad()
        conv.backward(2 * (y_hat - y))  # the tutorial's loss: sum of (Y_hat - Y)^2, so its gradient 2 (Y_hat - Y)
        conv.weight.data -= 3e-2 * conv.weight.grad
    np.testing.assert_allclose(conv.weight.data.reshape(2), [1.0, -1.0], atol=0.1)


def test_sobel_as_one_two_channel_convolution_finds_the_square_s_edges():
    img = np.zeros((10, 10))
    img[3:7, 3:7] = 1.0
    sobel_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    weight = np.stack([sobel_x, sobel_x.T])[:, None]  # (2, 1, 3, 3): x then y gradient
    gx, gy = F.conv2d(img[None, None], weight, padding=1)[0]
    # Vertical edges (left and right sides of the square) respond to x only, horizontal ones to y only.
    assert np.all(gx[3:7, 2] > 0) and np.all(gx[3:7, 7] < 0) and np.all(gx[:, 4:6] == 0)
    assert np.all(gy[2, 3:7] > 0) and np.all(gy[7, 3:7] < 0) and np.all(gy[4:6, :] == 0)
    # Far from the square, and inside it, nothing responds.
    assert np.all(gx[0] == 0) and np.all(gy[:, 0] == 0) and gx[5, 5] == gy[5, 5] == 0


@pytest.mark.parametrize(
    "inputs, outputs, count",
    [((3, 28, 28), (10,), 23_520), ((3, 1000, 1000), (10,), 30_000_000), ((100, 100), (100, 100), 10**8)],
)
def test_fully_connected_parameter_counts(inputs, outputs, count):
    assert dense_params(inputs, outputs) == count


def test_dense_params_agrees_with_a_real_linear_layer():
    assert Linear(3 * 28 * 28, 10).weight.data.size == dense_params((3, 28, 28), (10,))

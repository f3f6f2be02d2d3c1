"""Every scratch layer, LeNet and SGD equal their torch.nn counterparts in float64, gradients included."""

import numpy as np
import pytest
import torch
from torch import nn

from ferkit.scratch import (
    SGD,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
    lenet5,
    lenet5_modern,
)
from ferkit.scratch import functional as F

TOL = 1e-6


def torch_twin(layer):
    """The torch.nn module equal to a scratch layer, with the same parameters."""
    if isinstance(layer, Conv2d):
        twin = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                         bias=layer.bias is not None)  # fmt: skip
    elif isinstance(layer, Linear):
        twin = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    elif isinstance(layer, BatchNorm2d):
        twin = nn.BatchNorm2d(layer.num_features, layer.eps, layer.momentum)
    elif isinstance(layer, MaxPool2d | AvgPool2d):
        cls = nn.MaxPool2d if isinstance(layer, MaxPool2d) else nn.AvgPool2d
        twin = cls(layer.kernel_size, layer.stride, layer.padding)
    else:
        twin = {ReLU: nn.ReLU, Sigmoid: nn.Sigmoid, Tanh: nn.Tanh, Flatten: nn.Flatten}[type(layer)]()
    twin = twin.double()
    with torch.no_grad():
        for name in ("weight", "bias"):
            ours = getattr(layer, name, None)
            if ours is not None:
                getattr(twin, name).copy_(torch.from_numpy(ours.data))
    return twin


def check_equal(layer, twin, x, train=True):
    layer.train(train)
    twin.train(train)
    tx = torch.tensor(x, requires_grad=True)
    ty = twin(tx)
    y = layer(x)
    assert y.shape == tuple(ty.shape) and np.abs(y - ty.detach().numpy()).max() <= TOL
    g = np.random.default_rng(9).standard_normal(y.shape)
    ty.backward(torch.tensor(g))
    gx = layer.backward(g)
    assert np.abs(gx - tx.grad.numpy()).max() <= TOL
    for name in ("weight", "bias"):
        ours = getattr(layer, name, None)
        if ours is not None:
            assert np.abs(ours.grad - getattr(twin, name).grad.numpy()).max() <= TOL, name


rng = np.random.default_rng(0)
LAYERS = [
    (Conv2d(3, 4, 3, stride=2, padding=1, rng=rng), (2, 3, 7, 8)),
    (Conv2d(2, 3, (1, 3), padding=(0, 1), bias=False, rng=rng), (2, 2, 5, 5)),
    (Linear(6, 4, rng=rng), (3, 6)),
    (MaxPool2d(2), (2, 3, 6, 6)),
    (MaxPool2d(3, 2, 1), (2, 3, 7, 7)),
    (AvgPool2d(2, 1), (2, 3, 5, 5)),
    (AvgPool2d(3, 2, 1), (1, 2, 7, 6)),
    (ReLU(), (2, 3, 4, 4)),
    (Sigmoid(), (2, 5)),
    (Tanh(), (2, 5)),
    (Flatten(), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("layer, shape", LAYERS, ids=lambda v: type(v).__name__ if not isinstance(v, tuple) else "")
def test_layer_equals_torch(layer, shape):
    layer.zero_grad()
    check_equal(layer, torch_twin(layer), np.random.default_rng(1).standard_normal(shape))


def test_batchnorm_training_eval_and_running_statistics_equal_torch():
    bn = BatchNorm2d(3)
    bn.weight.data[:] = [0.5, 1.5, -1.0]
    bn.bias.data[:] = [0.1, -0.2, 0.3]
    twin = torch_twin(bn)
    for seed in range(3):  # several training batches move the running statistics
        bn.zero_grad()
        twin.zero_grad()
        check_equal(bn, twin, np.random.default_rng(seed).standard_normal((4, 3, 5, 5)) * 3 + 1, train=True)
    np.testing.assert_allclose(bn.running_mean, twin.running_mean.numpy(), atol=TOL)
    np.testing.assert_allclose(bn.running_var, twin.running_var.numpy(), atol=TOL)
    bn.zero_grad()
    twin.zero_grad()
    check_equal(bn, twin, np.random.default_rng(7).standard_normal((2, 3, 4, 4)), train=False)


def torch_lenet(model):
    return nn.Sequential(*[torch_twin(layer) for _, layer in model.named_children()])


@pytest.mark.parametrize("build, size", [(lenet5, 28), (lenet5_modern, 28), (lenet5_modern, 48)])
def test_lenets_equal_torch_and_sgd_steps_equal_torch_sgd(build, size):
    model = build(num_classes=7, input_size=size, seed=3)
    twin = torch_lenet(model)
    x = np.random.default_rng(2).standard_normal((4, 1, size, size))
    y = np.array([0, 3, 6, 2])
    ours_opt = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True)
    their_opt = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True)
    for _ in range(3):
        logits = model(x)
        tlogits = twin(torch.tensor(x))
        assert np.abs(logits - tlogits.detach().numpy()).max() <= TOL
        ours_opt.zero_grad()
        model.backward(F.cross_entropy_backward(logits, y))
        their_opt.zero_grad()
        torch.nn.functional.cross_entropy(tlogits, torch.tensor(y)).backward()
        for p, tp in zip(model.parameters(), twin.parameters()):
            assert np.abs(p.grad - tp.grad.numpy()).max() <= TOL
        ours_opt.step()
        their_opt.step()
    for p, tp in zip(model.parameters(), twin.parameters()):
        assert np.abs(p.data - tp.detach().numpy()).max() <= TOL


@pytest.mark.parametrize("momentum, nesterov, decay", [(0.0, False, 0.0), (0.9, False, 0.0), (0.5, True, 0.01)])
def test_sgd_equals_torch_sgd(momentum, nesterov, decay):
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    twin = torch_twin(layer)
    ours = SGD(layer.parameters(), lr=0.05, momentum=momentum, nesterov=nesterov, weight_decay=decay)
    theirs = torch.optim.SGD(twin.parameters(), lr=0.05, momentum=momentum, nesterov=nesterov, weight_decay=decay)
    for step in range(4):
        g = np.random.default_rng(step).standard_normal((2, 3))
        layer.weight.grad[...] = g
        layer.bias.grad[...] = g[:, 0]
        twin.weight.grad = torch.tensor(g)
        twin.bias.grad = torch.tensor(g[:, 0].copy())
        ours.step()
        theirs.step()
    np.testing.assert_allclose(layer.weight.data, twin.weight.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.bias.data, twin.bias.detach().numpy(), atol=1e-12)


def test_gradients_accumulate_until_zero_grad_as_in_torch():
    layer = Linear(2, 1, rng=np.random.default_rng(0))
    x = np.ones((1, 2))
    for _ in range(2):
        layer(x)
        layer.backward(np.ones((1, 1)))
    np.testing.assert_array_equal(layer.weight.grad, [[2.0, 2.0]])
    layer.zero_grad()
    assert not layer.weight.grad.any()


def test_numerical_gradient_of_batchnorm_in_training_mode():
    from tests.scratch.test_functional import numerical_grad

    bn = BatchNorm2d(2)
    x = np.random.default_rng(0).standard_normal((3, 2, 3, 3))
    g = np.random.default_rng(1).standard_normal(x.shape)
    bn(x)
    analytic = bn.backward(g)
    np.testing.assert_allclose(analytic, numerical_grad(lambda: float((bn(x) * g).sum()), x), atol=1e-5)

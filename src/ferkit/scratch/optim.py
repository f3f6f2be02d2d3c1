"""Stochastic gradient descent with momentum, step for step as torch.optim.SGD."""

from __future__ import annotations

from ferkit.scratch.layers import Parameter


class SGD:
    def __init__(
        self,
        params: list[Parameter],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self._velocity: list = [None] * len(self.params)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad[...] = 0

    def step(self) -> None:
        """p -= lr * d, with d = grad (+ weight decay), smoothed by momentum: v = momentum * v + d."""
        for i, p in enumerate(self.params):
            d = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            if self.momentum:
                v = d.copy() if self._velocity[i] is None else self.momentum * self._velocity[i] + d
                self._velocity[i] = v
                d = d + self.momentum * v if self.nesterov else v
            p.data -= self.lr * d

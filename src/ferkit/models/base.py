"""The one classifier interface every registered model follows, and the layers they share."""

from __future__ import annotations

import torch
from torch import nn


class FERModel(nn.Module):
    """forward_features: image -> last feature map (B, C, h, w), what Grad-CAM looks at;
    forward_head: that map -> logits (B, classes). Everything outside `self.head` counts as features, so
    transfer learning can freeze them or replace the head.
    """

    head: nn.Module
    num_features: int

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def reset_head(self, num_classes: int) -> None:
        """A fresh classifier for `num_classes` (fine-tuning on another label set)."""
        self.head = self.make_head(num_classes)
        if hasattr(self, "arch_args"):
            self.arch_args = {**self.arch_args, "num_classes": num_classes}

    def make_head(self, num_classes: int) -> nn.Module:
        raise NotImplementedError

    def feature_parameters(self) -> list[nn.Parameter]:
        head = {id(p) for p in self.head.parameters()}
        return [p for p in self.parameters() if id(p) not in head]


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class PoolHead(nn.Module):
    """Global average pooling, dropout, one linear layer: (B, C, h, w) -> (B, classes)."""

    def __init__(self, channels: int, num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(x.mean((2, 3))))  # (B, classes)


class PooledFERModel(FERModel):
    """A model whose head is global average pooling, dropout and one linear layer (ResNet, FastNet): subclasses set
    `num_features` and `_dropout` before calling `make_head`."""

    num_features: int
    _dropout: float

    def make_head(self, num_classes: int) -> nn.Module:
        return PoolHead(self.num_features, num_classes, self._dropout)

"""The registered architectures: LeNet-5, a VGG for 48x48 faces, a small-input ResNet, and a fast CPU model."""

from __future__ import annotations

import torch
from torch import nn

from ferkit.models.base import FERModel, PooledFERModel, conv_bn_relu
from ferkit.models.registry import register_model


class LeNet5(FERModel):
    """The tutorial baseline: two 5x5 conv layers (6, 16 channels) and 120-84 dense layers.

    classic=True: sigmoid and average pooling as in 1998; otherwise batch norm, ReLU and max pooling.
    """

    def __init__(self, num_classes: int = 7, in_chans: int = 1, input_size: int = 48, classic: bool = False):
        super().__init__()
        act = nn.Sigmoid if classic else nn.ReLU
        pool = nn.AvgPool2d if classic else nn.MaxPool2d
        norm = (lambda c: nn.Identity()) if classic else nn.BatchNorm2d
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 6, 5, padding=2), norm(6), act(), pool(2),
            nn.Conv2d(6, 16, 5), norm(16), act(), pool(2),
        )  # fmt: skip
        side = ((input_size // 2) - 4) // 2
        if side < 1:
            raise ValueError(f"input_size {input_size} is too small for LeNet-5 (at least 12)")
        self.num_features, self._act, self._side = 16, act, side
        self.head = self.make_head(num_classes)

    def make_head(self, num_classes: int) -> nn.Module:
        act = self._act
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * self._side**2, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # (B, 16, side, side)


class VGG(FERModel):
    """VGG for 48x48 faces after Khaireddin & Chen (2021): 4 stages of two conv3x3-BN-ReLU, max pooling after
    each, then fully connected layers with dropout."""

    def __init__(self, num_classes=7, in_chans=1, widths=(64, 128, 256, 512), fc=(1024, 1024), dropout=0.4,
                 input_size=48):  # fmt: skip
        super().__init__()
        layers, cin = [], in_chans
        for w in widths:
            layers += [conv_bn_relu(cin, w), conv_bn_relu(w, w), nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.num_features, self._fc, self._dropout = cin, tuple(fc), dropout
        self._side = input_size // 2 ** len(widths)
        self.head = self.make_head(num_classes)

    def make_head(self, num_classes: int) -> nn.Module:
        layers, width = [nn.Flatten()], self.num_features * self._side**2
        for units in self._fc:
            layers += [nn.Dropout(self._dropout), nn.Linear(width, units), nn.ReLU(inplace=True)]
            width = units
        return nn.Sequential(*layers, nn.Dropout(self._dropout), nn.Linear(width, num_classes))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # (B, widths[-1], 3, 3) for 48x48


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(cin, cout, 3, stride),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.shortcut = (
            nn.Identity()
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class ResNet(PooledFERModel):
    """ResNet-18 layout for small inputs: a 3x3 stride-1 stem and no max pool, so 48x48 keeps detail to 6x6."""

    def __init__(self, num_classes=7, in_chans=1, widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2), dropout=0.2):
        super().__init__()
        self.stem = conv_bn_relu(in_chans, widths[0])
        stages, cin = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            stages += [BasicBlock(cin if j == 0 else w, w, 2 if (i > 0 and j == 0) else 1) for j in range(n)]
            cin = w
        self.stages = nn.Sequential(*stages)
        self.num_features, self._dropout = cin, dropout
        self.head = self.make_head(num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))  # (B, 512, 6, 6) for 48x48


class FastNet(PooledFERModel):
    """A small VGG-style net for CPU inference (about 1.2 M parameters): four stages of two conv3x3-BN-ReLU,
    widths 32-64-128-256, then global average pooling."""

    def __init__(self, num_classes=7, in_chans=1, widths=(32, 64, 128, 256), dropout=0.3):
        super().__init__()
        layers, cin = [], in_chans
        for i, w in enumerate(widths):
            layers += [conv_bn_relu(cin, w), conv_bn_relu(w, w)]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self.num_features, self._dropout = cin, dropout
        self.head = self.make_head(num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # (B, 256, 6, 6) for 48x48


@register_model
def lenet5(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, **kw) -> FERModel:
    return LeNet5(num_classes, in_chans, input_size=input_size, **kw)


@register_model
def vgg(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, **kw) -> FERModel:
    return VGG(num_classes, in_chans, input_size=input_size, **kw)


@register_model
def resnet(num_classes: int = 7, in_chans: int = 1, **kw) -> FERModel:
    return ResNet(num_classes, in_chans, **kw)


@register_model
def fastnet(num_classes: int = 7, in_chans: int = 1, **kw) -> FERModel:
    return FastNet(num_classes, in_chans, **kw)

"""Batch norm folded into the convolution before it, for models that only ever run in eval mode.

A frozen teacher in distillation runs a forward pass on every training batch; in eval mode each BatchNorm2d is an
affine map per channel, so folding it into the preceding conv's weights and bias gives the same function with one
pass over memory fewer per layer (with channels_last, 1.6x faster teachers on a 2-core CPU: bench/bench_teacher.py).
"""

from __future__ import annotations

import copy

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode copy of `model` with every Conv2d directly followed by a BatchNorm2d (inside an nn.Sequential)
    replaced by one Conv2d and an Identity. The input model is left untouched; outputs agree to float rounding."""
    fused = copy.deepcopy(model).eval()
    for module in fused.modules():
        if isinstance(module, nn.Sequential):
            _fuse_pairs(module)
    return fused


def _fuse_pairs(seq: nn.Sequential) -> None:
    names = list(seq._modules)
    for first, second in zip(names, names[1:]):
        conv, bn = seq._modules[first], seq._modules[second]
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
            seq._modules[first] = fuse_conv_bn_eval(conv, bn)
            seq._modules[second] = nn.Identity()

"""Batch augmentation on the training device: one affine warp per batch (crop, flip, rotation, shift, scale)
and random erasing, all drawn from one torch.Generator so that a seeded run is repeatable."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ferkit.config import AugmentConfig
from ferkit.preprocess import Preprocessing, standardize, to_unit


def _uniform(n: int, low: float, high: float, gen: torch.Generator, device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=gen, device=device)


def random_affine(n: int, aug: AugmentConfig, prep: Preprocessing, gen: torch.Generator, device) -> torch.Tensor:
    """(n, 2, 3) affine matrices in normalised coordinates mapping output pixels to input pixels."""
    size, out = prep.size, prep.input_size
    zoom = torch.full((n,), out / size, device=device)  # a crop of out pixels from a size-pixel face
    if aug.resized_crop > 0:  # keep between resized_crop and all of the area
        zoom = zoom * _uniform(n, aug.resized_crop, 1.0, gen, device).sqrt()
    zoom = zoom * _uniform(n, 1 - aug.scale, 1 + aug.scale, gen, device).reciprocal()
    room = (1 - zoom).clamp(min=0)  # how far the crop window can move inside the face
    if not prep.crop and aug.pad:  # classic "pad then crop": shifts of up to pad pixels
        room = room + 2 * aug.pad / size
    tx = _uniform(n, -1, 1, gen, device) * room + _uniform(n, -aug.shift, aug.shift, gen, device) * 2
    ty = _uniform(n, -1, 1, gen, device) * room + _uniform(n, -aug.shift, aug.shift, gen, device) * 2
    angle = _uniform(n, -aug.rotate, aug.rotate, gen, device) * (math.pi / 180)
    flip = (
        torch.where(torch.rand(n, generator=gen, device=device) < 0.5, -1.0, 1.0)
        if aug.flip
        else torch.ones(n, device=device)
    )
    cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    return theta  # (n, 2, 3)


def random_erase(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Zero (the mean, once standardised) a random rectangle of 2-20% of the area in a fraction p of images."""
    n, _, h, w = x.shape
    dev = x.device
    area = _uniform(n, 0.02, 0.2, gen, dev) * h * w
    aspect = torch.exp(_uniform(n, math.log(0.3), math.log(3.3), gen, dev))
    eh, ew = (area * aspect).sqrt().clamp(max=h), (area / aspect).sqrt().clamp(max=w)
    top, left = _uniform(n, 0, 1, gen, dev) * (h - eh), _uniform(n, 0, 1, gen, dev) * (w - ew)
    rows = torch.arange(h, device=dev).view(1, h, 1)
    cols = torch.arange(w, device=dev).view(1, 1, w)
    inside = (rows >= top.view(n, 1, 1)) & (rows < (top + eh).view(n, 1, 1))
    inside = inside & (cols >= left.view(n, 1, 1)) & (cols < (left + ew).view(n, 1, 1))  # (n, h, w)
    chosen = (torch.rand(n, generator=gen, device=dev) < p).view(n, 1, 1)
    return x.masked_fill((inside & chosen).unsqueeze(1), 0.0)


def augment(batch: torch.Tensor, aug: AugmentConfig, prep: Preprocessing, gen: torch.Generator) -> torch.Tensor:
    """uint8 (B, C, H, W) faces -> augmented, standardised float32 (B, C, S, S) network input."""
    x = to_unit(batch, prep)  # (B, C, size, size) in [0, 1]
    n, c, s = x.shape[0], x.shape[1], prep.input_size
    theta = random_affine(n, aug, prep, gen, x.device)
    grid = F.affine_grid(theta, [n, c, s, s], align_corners=False)
    x = standardize(F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False), prep)
    return random_erase(x, aug.erase, gen) if aug.erase > 0 else x


def _box_mask(h: int, w: int, share: float, gen: torch.Generator, device) -> tuple[torch.Tensor, float]:
    """(1, 1, h, w) bool mask of one random box covering about `share` of the image, and its exact share."""
    bh, bw = round(h * math.sqrt(share)), round(w * math.sqrt(share))
    cy, cx = (torch.rand(2, generator=gen, device=device) * torch.tensor([h, w], device=device)).long().tolist()
    top, left = max(cy - bh // 2, 0), max(cx - bw // 2, 0)
    bottom, right = min(cy + (bh + 1) // 2, h), min(cx + (bw + 1) // 2, w)
    mask = torch.zeros(1, 1, h, w, dtype=torch.bool, device=device)
    mask[..., top:bottom, left:right] = True
    return mask, (bottom - top) * (right - left) / (h * w)


def mix_batch(
    x: torch.Tensor, target: torch.Tensor, aug: AugmentConfig, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup or CutMix of a batch with a shuffled copy of itself.

    x (B, C, S, S) standardised images, target (B, K) label distributions -> the mixed pair. The label weight is the
    share of each image actually present (for CutMix, the pasted box's clipped area), so the targets stay honest.
    """
    kinds = [k for k in ("mixup", "cutmix") if getattr(aug, k) > 0]
    if not kinds:
        return x, target
    draw = torch.rand(2, generator=gen, device=x.device).tolist()
    if draw[0] >= aug.mix_prob:
        return x, target
    kind = kinds[int(draw[1] * len(kinds))]
    alpha = getattr(aug, kind)
    seed = int(torch.randint(2**31 - 1, (1,), generator=gen, device=x.device))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))  # torch's Beta takes no generator; this stays seeded
    perm = torch.randperm(x.shape[0], generator=gen, device=x.device)
    if kind == "mixup":
        return lam * x + (1 - lam) * x[perm], lam * target + (1 - lam) * target[perm]
    mask, pasted = _box_mask(x.shape[2], x.shape[3], 1 - lam, gen, x.device)
    return torch.where(mask, x[perm], x), (1 - pasted) * target + pasted * target[perm]

"""Model-input preprocessing, defined once for training, evaluation, prediction and serving.

A face crop arrives as uint8 gray (or colour) pixels; the network sees float32 (N, C, S, S), scaled to [0, 1]
and standardised with the training set's mean and std. The parameters travel in every checkpoint's metadata.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ferkit.labels import INPUT_CHANNELS, INPUT_SIZE


@dataclass(frozen=True)
class Preprocessing:
    """Resize the face to size x size, centre-crop crop x crop (0: no crop), scale to [0, 1], standardise."""

    size: int = INPUT_SIZE
    channels: int = INPUT_CHANNELS
    mean: float = 0.5
    std: float = 0.25
    crop: int = 0

    @property
    def input_size(self) -> int:
        """The side of the tensor the network sees."""
        return self.crop or self.size

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessing:
        return cls(**{k: d[k] for k in ("size", "channels", "mean", "std", "crop") if k in d})


def fit_preprocessing(images: np.ndarray, size: int = INPUT_SIZE, crop: int = 0) -> Preprocessing:
    """Mean and std of the training pixels (scaled to [0, 1]), measured on up to 5,000 images."""
    sample = images[:: max(1, len(images) // 5000)].astype(np.float64) / 255.0
    channels = 1 if images.ndim == 3 else images.shape[-1]
    std = float(sample.std()) or 1.0
    return Preprocessing(size=size, channels=channels, mean=float(sample.mean()), std=std, crop=crop)


def to_uint8_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W) or (N, H, W, C) uint8 -> (N, C, H, W) uint8 tensor (no copy of the pixels' values)."""
    t = torch.from_numpy(np.ascontiguousarray(images))
    return t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2).contiguous()


def to_unit(batch: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """uint8 (N, C, H, W) pixels -> float32 in [0, 1] with the model's channels, resized to size x size."""
    x = batch.float() / 255.0  # (N, C, H, W)
    if x.shape[1] == 3 and prep.channels == 1:  # colour to gray with the ITU-R 601 weights PIL's "L" uses
        x = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    elif x.shape[1] == 1 and prep.channels == 3:
        x = x.expand(-1, 3, -1, -1)
    return resize(x, prep.size)


def resize(x: torch.Tensor, side: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, side, side), bilinear, antialiased (which PyTorch applies only when shrinking)."""
    if x.shape[-2:] == (side, side):
        return x
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)


def standardize(x: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    return (x - prep.mean) / prep.std


def center_crop(x: torch.Tensor, crop: int) -> torch.Tensor:
    if not crop or crop >= x.shape[-1]:
        return x
    top, left = (x.shape[-2] - crop) // 2, (x.shape[-1] - crop) // 2
    return x[..., top : top + crop, left : left + crop]


def normalize(batch: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """uint8 (N, C, H, W) pixels -> the network's input, float32 (N, C, S, S): the evaluation-time transform."""
    return standardize(center_crop(to_unit(batch, prep), prep.crop), prep)

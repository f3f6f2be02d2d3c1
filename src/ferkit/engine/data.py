"""From a dataset on disk to the tensors the trainer holds: the training and validation splits, never a test
split, as uint8 tensors on the training device."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from ferkit.config import DataConfig
from ferkit.data import FaceDataset, load_dataset
from ferkit.data.dataset import SPLIT_ROLES
from ferkit.errors import FerkitError
from ferkit.preprocess import to_uint8_tensor


@dataclass
class Split:
    name: str
    images: torch.Tensor  # (N, C, H, W) uint8
    labels: torch.Tensor  # (N,) int64
    soft: torch.Tensor | None  # (N, K) float32 vote distributions, or None


def _held_out(ds: FaceDataset, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of about `fraction` of the items: whole subjects when known (CK+), else per class."""
    rng = np.random.default_rng(seed)
    if ds.subjects is not None:
        subjects = np.unique(ds.subjects)
        chosen = rng.choice(subjects, max(1, round(fraction * len(subjects))), replace=False)
        return np.isin(ds.subjects, chosen)
    mask = np.zeros(len(ds), bool)
    for c in np.unique(ds.labels):
        idx = np.flatnonzero(ds.labels == c)
        mask[rng.choice(idx, max(1, round(fraction * len(idx))), replace=False)] = True
    return mask


def training_splits(ds: FaceDataset, cfg: DataConfig, seed: int) -> tuple[FaceDataset, FaceDataset, str]:
    """(train, validation, validation's name). The validation split picks checkpoints and stops early, so it is
    never a test split; without one, a part of training is held out."""
    train_name = cfg.train_split or ds.split_for_role("train") or ("all" if "all" in ds.split_names else None)
    if train_name is None:
        raise FerkitError(f"{ds.root}: no training split among {', '.join(ds.split_names)}; set data.train_split")
    val_name = cfg.val_split or ds.split_for_role("val")
    if val_name is not None and SPLIT_ROLES.get(val_name) == "test":
        raise FerkitError(f"{val_name} is a test split: models are chosen on validation data only")
    train = ds.split(train_name)
    if val_name is not None:
        return train, ds.split(val_name), val_name
    held = _held_out(train, cfg.val_fraction, seed)
    return train.subset(~held), train.subset(held), f"{train_name} (held-out {cfg.val_fraction:.0%})"


def to_split(ds: FaceDataset, name: str, device: torch.device, soft: bool) -> Split:
    soft_t = torch.from_numpy(ds.soft_labels).to(device) if soft and ds.soft_labels is not None else None
    return Split(name, to_uint8_tensor(ds.images).to(device), torch.from_numpy(ds.labels).to(device), soft_t)


def fingerprint(*datasets: FaceDataset) -> str:
    """A content hash of images and labels, so a checkpoint names exactly the data it saw."""
    h = hashlib.blake2b(digest_size=16)
    for ds in datasets:
        h.update(np.ascontiguousarray(ds.images).tobytes())
        h.update(ds.labels.astype(np.int64).tobytes())
    return h.hexdigest()


def load_training_data(cfg: DataConfig) -> FaceDataset:
    if not cfg.path:
        raise FerkitError("no dataset: pass --data PATH (or data.path in the config)")
    return load_dataset(cfg.path, cfg.format, fer2013=cfg.fer2013)

"""From a dataset on disk to the tensors the trainer holds: the training and validation splits, never a test
split, as uint8 tensors on the training device."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

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


def with_ferplus_votes(ds: FaceDataset, votes_csv: str, weight: float) -> FaceDataset:
    """FER2013 read from its CSV, with soft labels (1 - weight) * one-hot(label) + weight * FER+ votes.

    FER+ rows pair with FER2013 rows by position; the votes for contempt, unknown and not-a-face are dropped and
    the 7 emotions' votes renormalised. Items FER+ dropped or gave no emotion vote keep their one-hot label.
    """
    from pathlib import Path

    from ferkit.data.ferplus import read_vote_rows
    from ferkit.labels import EMOTIONS

    if tuple(ds.classes) != EMOTIONS:
        raise FerkitError(f"data.ferplus_votes needs FER2013's 7 classes, not {', '.join(ds.classes)}")
    if not 0 <= weight <= 1:
        raise FerkitError(f"data.ferplus_weight must be between 0 and 1, not {weight}")
    lines = [str(s).rsplit(":", 1) for s in ds.sources]
    if not all(len(p) == 2 and p[1].isdigit() for p in lines):
        raise FerkitError("data.ferplus_votes pairs FER+ with FER2013 by CSV row: read FER2013 from fer2013.csv(.gz)")
    votes = read_vote_rows(Path(votes_csv))
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[ds.labels]  # (N, 7)
    soft = onehot.copy()
    for i, (_, line) in enumerate(lines):
        v = votes.get(int(line))
        if v is not None and v[: len(EMOTIONS)].sum() > 0:
            soft[i] = (1 - weight) * onehot[i] + weight * v[: len(EMOTIONS)] / v[: len(EMOTIONS)].sum()
    return replace(ds, soft_labels=soft)


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
    ds = load_dataset(cfg.path, cfg.format, fer2013=cfg.fer2013)
    return with_ferplus_votes(ds, cfg.ferplus_votes, cfg.ferplus_weight) if cfg.ferplus_votes else ds

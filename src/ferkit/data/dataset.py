"""The one in-memory form every dataset reader returns, and the log of problems met while reading."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ferkit.errors import DatasetError

log = logging.getLogger("ferkit.data")

# Standard split names, in the order they are reported, and the role each plays in training and evaluation.
SPLIT_ORDER: tuple[str, ...] = ("Training", "Train", "PublicTest", "Valid", "PrivateTest", "Test", "all")
SPLIT_ROLES: dict[str, str] = {
    "Training": "train",
    "Train": "train",
    "PublicTest": "val",
    "Valid": "val",
    "PrivateTest": "test",
    "Test": "test",
}
# Readers warn about the first problems one by one, then summarise, so a broken dataset does not flood the terminal.
MAX_WARNINGS = 20


@dataclass(frozen=True)
class Problem:
    """One skipped item (or a dataset-level oddity): where it is and why it was skipped."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason}


class ProblemLog:
    """Collects the bad items a reader skips, and the items the format's own rules exclude (counted by reason).

    `report_problems` later warns about the problems or raises.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.excluded: Counter[str] = Counter()

    def add(self, source: str | object, reason: str) -> None:
        self.problems.append(Problem(str(source), reason))

    def exclude(self, reason: str) -> None:
        self.excluded[reason] += 1


def report_problems(problems: list[Problem], strict: bool) -> None:
    """Warn with each bad item's name and reason (the first MAX_WARNINGS of them), or raise if strict."""
    if strict and problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DatasetError(f"{problems[0]}{more}; strict mode makes bad data an error")
    for problem in problems[:MAX_WARNINGS]:
        log.warning("skipped %s", problem)
    if len(problems) > MAX_WARNINGS:
        log.warning(
            "... and %d more problems, all counted in the report (ferkit data info)", len(problems) - MAX_WARNINGS
        )


def split_sort_key(name: str) -> tuple[int, str]:
    """Standard splits first, in their usual order; any others after them, alphabetically."""
    return (SPLIT_ORDER.index(name), "") if name in SPLIT_ORDER else (len(SPLIT_ORDER), name)


@dataclass
class FaceDataset:
    """Face images with labels, as every reader returns them.

    images: (N, H, W) for grayscale or (N, H, W, 3) for colour, uint8.
    labels: (N,) int64 indices into `classes`.
    splits: (N,) split name per item (e.g. "Training", "PublicTest").
    sources: (N,) where each item came from: a file path, or "file.csv:ROW" (1-based data row).
    soft_labels: optional (N, len(classes)) float32 label distribution per item (FER+ votes), rows sum to 1.
    subjects: optional (N,) subject id per item (CK+), for subject-independent splits.
    problems: items skipped as bad data; excluded: items left out by the format's own rules, counted by reason.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    splits: np.ndarray
    sources: np.ndarray
    format: str
    root: str
    soft_labels: np.ndarray | None = None
    subjects: np.ndarray | None = None
    problems: list[Problem] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.images)
        for name in ("labels", "splits", "sources", "soft_labels", "subjects"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"FaceDataset.{name} has {len(value)} items, images has {n}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, ...]:
        """(H, W) or (H, W, C) of every image."""
        return tuple(self.images.shape[1:])

    @property
    def mode(self) -> str:
        """PIL's name for the pixel format: "L" (8-bit gray) or "RGB"."""
        return "L" if self.images.ndim == 3 else "RGB"

    @property
    def split_names(self) -> list[str]:
        return sorted({str(s) for s in self.splits}, key=split_sort_key)

    def split_for_role(self, role: str) -> str | None:
        """The split that plays `role` ("train", "val" or "test"), or None if the dataset has none."""
        return next((s for s in self.split_names if SPLIT_ROLES.get(s) == role), None)

    def subset(self, index: np.ndarray) -> FaceDataset:
        """The items selected by a boolean mask or an integer index array, problems kept."""
        return replace(
            self,
            images=self.images[index],
            labels=self.labels[index],
            splits=self.splits[index],
            sources=self.sources[index],
            soft_labels=None if self.soft_labels is None else self.soft_labels[index],
            subjects=None if self.subjects is None else self.subjects[index],
        )

    def split(self, name: str) -> FaceDataset:
        """The items of one split; a clear error names the splits there are."""
        if name not in self.split_names:
            raise DatasetError(f"{self.root} has no split {name!r}; it has {', '.join(self.split_names) or 'none'}")
        return self.subset(self.splits == name)

    def counts(self) -> dict[str, dict[str, int]]:
        """Split x class counts; every class is listed, so a class with no images shows as 0."""
        result = {}
        for split in self.split_names:
            per_class = np.bincount(self.labels[self.splits == split], minlength=len(self.classes))
            result[split] = {c: int(k) for c, k in zip(self.classes, per_class)}
        return result

    def subject_folds(self, k: int = 10, seed: int = 0) -> np.ndarray:
        """(N,) fold index 0..k-1 per item such that every subject's items share one fold.

        Subjects are shuffled with `seed` and dealt round-robin, so folds differ in size by at most one subject.
        """
        if self.subjects is None:
            raise DatasetError(f"{self.root} has no subject ids ({self.format}); subject folds need them (CK+ has)")
        unique = np.unique(self.subjects)
        if not 2 <= k <= len(unique):
            raise DatasetError(f"cannot make {k} subject folds from {len(unique)} subjects")
        order = np.random.default_rng(seed).permutation(len(unique))
        fold_of = {unique[i]: fold % k for fold, i in enumerate(order)}
        return np.array([fold_of[s] for s in self.subjects], dtype=np.int64)


class DatasetBuilder:
    """Accepts a reader's good items one at a time and assembles them into a FaceDataset."""

    def __init__(self, format: str, root: Path | str, classes: tuple[str, ...], image_shape: tuple[int, ...]) -> None:
        self.format, self.root, self.classes, self.image_shape = format, str(root), classes, image_shape
        self.images: list[np.ndarray] = []
        self.labels: list[int] = []
        self.splits: list[str] = []
        self.sources: list[str] = []
        self.soft_labels: list[np.ndarray] = []
        self.subjects: list[str] = []

    def add(
        self,
        image: np.ndarray,
        label: int,
        split: str,
        source: str | Path,
        soft_label: np.ndarray | None = None,
        subject: str | None = None,
    ) -> None:
        self.images.append(image.reshape(self.image_shape))
        self.labels.append(label)
        self.splits.append(split)
        self.sources.append(str(source))
        if soft_label is not None:
            self.soft_labels.append(soft_label)
        if subject is not None:
            self.subjects.append(subject)

    def build(self, log: ProblemLog) -> FaceDataset:
        n = len(self.images)
        return FaceDataset(
            images=np.stack(self.images) if n else np.zeros((0, *self.image_shape), np.uint8),
            labels=np.asarray(self.labels, dtype=np.int64),
            classes=self.classes,
            splits=np.asarray(self.splits, dtype=str),
            sources=np.asarray(self.sources, dtype=str),
            format=self.format,
            root=self.root,
            soft_labels=np.stack(self.soft_labels).astype(np.float32) if self.soft_labels else None,
            subjects=np.asarray(self.subjects, dtype=str) if self.subjects else None,
            problems=log.problems,
            excluded=dict(log.excluded),
        )

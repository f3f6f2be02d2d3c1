"""Subject-independent k-fold cross-validation (CK+48): every subject's images are tested exactly once, by a
model that never saw that subject. Within each fold the checkpoint is chosen on subjects held out of the
training folds, never on the test fold."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from ferkit.config import Config
from ferkit.data import FaceDataset
from ferkit.engine.data import load_training_data
from ferkit.engine.evaluate import evaluate_split
from ferkit.engine.trainer import train
from ferkit.errors import FerkitError
from ferkit.fileio import atomic_write_text
from ferkit.models import load_model


def fold_dataset(ds: FaceDataset, folds: np.ndarray, k: int) -> FaceDataset:
    """The dataset with fold k's subjects as the "Test" split and all others as "Train"."""
    return replace(ds, splits=np.where(folds == k, "Test", "Train"))


def cross_validate(cfg: Config, k: int, seed: int = 0, log=print) -> dict:
    """Train one model per fold; report each fold's test accuracy and their mean ± std."""
    ds = load_training_data(cfg.data)
    if ds.subjects is None:
        raise FerkitError(f"{ds.root} has no subject ids ({ds.format}); subject-independent k-fold needs them (CK+)")
    folds = ds.subject_folds(k, seed)
    results = []
    for fold in range(k):
        fold_cfg = copy.deepcopy(cfg)
        fold_cfg.out = str(Path(cfg.out) / f"fold{fold}")
        fold_cfg.data.train_split, fold_cfg.data.val_split = "Train", None
        fold_ds = fold_dataset(ds, folds, fold)
        train(fold_cfg, dataset=fold_ds, log=lambda msg, f=fold: log(f"[fold {f + 1}/{k}] {msg}"))
        report = evaluate_split([load_model(Path(fold_cfg.out) / "best")], fold_ds.split("Test"), "none")
        results.append({"fold": fold, "n": report["n"], "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
                        "subjects": int(len(np.unique(ds.subjects[folds == fold])))})  # fmt: skip
        log(f"[fold {fold + 1}/{k}] test accuracy {report['accuracy']:.4f} on {report['n']} images")
    acc = np.array([r["accuracy"] for r in results])
    summary = {"k": k, "seed": seed, "data": ds.root, "init": cfg.model.init, "model": cfg.model.name,
               "mean_accuracy": float(acc.mean()), "std_accuracy": float(acc.std(ddof=1)) if k > 1 else 0.0,
               "folds": results, "config": cfg.to_dict()}  # fmt: skip
    atomic_write_text(Path(cfg.out) / "kfold.json", json.dumps(summary, indent=2))
    return summary

"""`make_ensemble`: write an ensemble checkpoint from trained members and calibrate it as one model.

The temperature is fitted on the validation split (never a test split) to the ensemble's own output, the log of
its members' averaged probabilities, exactly as the trainer calibrates a single model.
"""

from __future__ import annotations

import os
from pathlib import Path

from ferkit.data import FaceDataset
from ferkit.engine.calibration import calibration_effect, fit_temperature
from ferkit.engine.evaluate import align_labels
from ferkit.errors import FerkitError
from ferkit.models import load_model
from ferkit.models.checkpoint import SHIPPED, resolve_checkpoint, save_ensemble
from ferkit.models.ensemble import Ensemble
from ferkit.models.predict import predict_logits


def member_reference(member: str, out: Path) -> str:
    """How the ensemble's model.json names a member: a shipped name as it is, a folder relative to `out`."""
    folder = resolve_checkpoint(member).resolve()
    if folder.parent == SHIPPED.resolve() and not Path(member).exists():
        return folder.name  # the folder, not an alias such as `default` that may later point elsewhere
    return os.path.relpath(folder, out.resolve())


def make_ensemble(members: list[str], out: str | Path, dataset: FaceDataset, split: str | None = None) -> dict:
    """Write the ensemble of `members` to `out`, its temperature fitted on `split` (default: the dataset's
    validation split). Returns the written metadata."""
    out = Path(out)
    if len(members) < 2:
        raise FerkitError("an ensemble needs at least two members")
    split = split or dataset.split_for_role("val")
    if split is None or split not in dataset.split_names:
        raise FerkitError(f"{dataset.root}: no validation split to calibrate on; name one with --split")
    if dataset.split_for_role("test") == split:
        raise FerkitError(f"{split} is a test split: ensembles are calibrated on validation data only")
    ensemble = Ensemble([load_model(m) for m in members])
    val = dataset.split(split)
    labels, usable = align_labels(val, ensemble.classes)
    logits = predict_logits(ensemble, val.images[usable])
    labels = labels[usable]
    t = fit_temperature(logits, labels)
    accuracy = float((logits.argmax(1) == labels).mean())
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "classes": list(ensemble.classes),
        "preprocessing": ensemble.preprocessing.to_dict(),
        "calibration": {"temperature": t, "split": split, **calibration_effect(logits, labels, t)},
        "metrics": {"val_accuracy": accuracy, "val_split": split},
        "data": {"path": dataset.root, "format": dataset.format, "val_split": split},
    }
    save_ensemble(out, [member_reference(m, out) for m in members], meta)
    return meta

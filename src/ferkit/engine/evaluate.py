"""`evaluate`: per-split metrics of one model or an averaged ensemble, plots, and the JSON report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferkit.data import FaceDataset
from ferkit.engine.calibration import softmax
from ferkit.engine.metrics import classification_report, expected_calibration_error
from ferkit.errors import FerkitError
from ferkit.models import load_model
from ferkit.models.predict import predict_logits, predict_proba


def load_models(spec: str, device: str = "cpu") -> list:
    """One model, or several separated by commas (their probabilities are averaged)."""
    models = [load_model(name.strip(), device) for name in spec.split(",") if name.strip()]
    if not models:
        raise FerkitError("--model is empty")
    first = models[0].classes
    for m in models[1:]:
        if m.classes != first:
            raise FerkitError(f"ensemble members disagree on classes: {first} vs {m.classes}")
    return models


def align_labels(ds: FaceDataset, classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The dataset's labels as indices into the model's classes, and a mask of items the model can score
    (a 7-class model cannot be scored on contempt)."""
    lookup = np.array([classes.index(c) if c in classes else -1 for c in ds.classes])
    mapped = lookup[ds.labels]
    return mapped, mapped >= 0


def evaluate_split(models: list, ds: FaceDataset, tta: str, batch_size: int = 256) -> dict:
    classes = models[0].classes
    labels, usable = align_labels(ds, classes)
    images = ds.images[usable]
    labels = labels[usable]
    probs = np.mean([predict_proba(m, images, batch_size, tta) for m in models], axis=0)
    report = classification_report(probs, labels, classes)
    uncalibrated = np.mean(
        [softmax(predict_logits(m, images, batch_size, "none")) for m in models], axis=0
    )  # T = 1, no TTA: the "before" of calibration
    report["ece_uncalibrated"], _ = expected_calibration_error(uncalibrated, labels)
    report["skipped_unknown_class"] = int((~usable).sum())
    return report


def evaluate(models: list, ds: FaceDataset, splits: list[str] | None, tta: str, model_name: str) -> dict:
    """The `ferkit evaluate --json` object: {"model", "tta", "classes", "splits": {name: report}}."""
    names = splits or ds.split_names
    return {
        "model": model_name,
        "tta": tta,
        "classes": list(models[0].classes),
        "temperature": [m.temperature for m in models],
        "data": {"path": ds.root, "format": ds.format},
        "splits": {name: evaluate_split(models, ds.split(name), tta) for name in names},
    }


def write_plots(report: dict, out: Path) -> dict[str, str]:
    """Confusion matrix and reliability diagram PNGs per split; returns {name: file}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ferkit.fileio import atomic_path

    files = {}
    classes = report["classes"]
    for split, r in report["splits"].items():
        conf = np.array(r["confusion"], dtype=float)
        rows = conf / np.maximum(conf.sum(1, keepdims=True), 1)
        fig, ax = plt.subplots(figsize=(6.5, 5.5))
        im = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        ax.set_yticks(range(len(classes)), classes)
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, f"{int(conf[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if rows[i, j] > 0.5 else "black")  # fmt: skip
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{split}: accuracy {r['accuracy']:.2%}, macro-F1 {r['macro_f1']:.2%}")
        fig.colorbar(im, ax=ax, label="fraction of the true class")
        fig.tight_layout()
        files[f"confusion_{split}"] = f"confusion_{split}.png"
        with atomic_path(out / files[f"confusion_{split}"]) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(5, 5))
        bins = [b for b in r["reliability"] if b["n"]]
        ax.bar([(b["low"] + b["high"]) / 2 for b in bins], [b["accuracy"] for b in bins], width=1 / 15,
               edgecolor="black", alpha=0.7, label="accuracy")  # fmt: skip
        ax.plot([0, 1], [0, 1], "k--", label="perfect calibration")
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{split}: ECE {r['ece']:.3f} (uncalibrated {r['ece_uncalibrated']:.3f})")
        ax.legend(loc="upper left")
        fig.tight_layout()
        files[f"reliability_{split}"] = f"reliability_{split}.png"
        with atomic_path(out / files[f"reliability_{split}"]) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)
    return files

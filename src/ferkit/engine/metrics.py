"""Classification metrics from predictions: accuracy, per-class precision/recall/F1, macro-F1, confusion,
expected calibration error and the reliability diagram's bins."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) counts; row = true class, column = predicted class."""
    return np.bincount(labels * num_classes + predictions, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_scores(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class (0 where undefined, as scikit-learn's zero_division=0)."""
    tp = np.diag(confusion).astype(np.float64)
    predicted, support = confusion.sum(0), confusion.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> tuple[float, list[dict]]:
    """ECE: the support-weighted gap between confidence and accuracy over equal-width confidence bins."""
    confidence, correct = probs.max(1), probs.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        in_bin = which == b
        n = int(in_bin.sum())
        acc = float(correct[in_bin].mean()) if n else 0.0
        conf = float(confidence[in_bin].mean()) if n else 0.0
        ece += n / max(len(labels), 1) * abs(acc - conf)
        table.append({"low": float(edges[b]), "high": float(edges[b + 1]), "n": n, "accuracy": acc, "confidence": conf})
    return float(ece), table


def classification_report(probs: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Everything `ferkit evaluate` reports for one split, from (N, K) probabilities and (N,) labels."""
    predictions = probs.argmax(1)
    confusion = confusion_matrix(labels, predictions, len(classes))
    scores = per_class_scores(confusion)
    present = scores["support"] > 0  # macro-F1 over the classes the split has (CK+ has no neutral)
    ece, bins = expected_calibration_error(probs, labels)
    return {
        "n": int(len(labels)),
        "accuracy": float((predictions == labels).mean()) if len(labels) else 0.0,
        "macro_f1": float(scores["f1"][present].mean()) if present.any() else 0.0,
        "ece": ece,
        "nll": float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())
        if len(labels)
        else 0.0,
        "per_class": {
            c: {k: (int(v[i]) if k == "support" else float(v[i])) for k, v in scores.items()}
            for i, c in enumerate(classes)
        },
        "confusion": confusion.tolist(),
        "reliability": bins,
    }

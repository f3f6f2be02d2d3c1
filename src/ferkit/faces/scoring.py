"""Scoring a face detector against hand-labelled boxes: IoU, one-to-one matching, recall and false detections."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

Box = tuple[float, float, float, float]  # x, y, width, height


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def matches(truth: list[Box], found: list[Box], threshold: float = 0.5) -> int:
    """Greedy one-to-one matching, best overlaps first; returns the number of matched pairs."""
    pairs = sorted(((iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)), reverse=True)
    used_t, used_f = set(), set()
    for overlap, i, j in pairs:
        if overlap >= threshold and i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
    return len(used_t)


def read_boxes(path: str | Path) -> dict[Path, list[Box]]:
    """{image path: its faces} from a CSV with columns file,left,top,width,height (files relative to the CSV)."""
    path = Path(path)
    truth: dict[Path, list[Box]] = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            truth[path.parent / row["file"]].append(tuple(float(row[k]) for k in ("left", "top", "width", "height")))
    return dict(truth)


def score_detections(truth: dict, found: dict, threshold: float = 0.5) -> dict:
    """Recall and false detections per image over {image: boxes} of truth and of detections."""
    faces = sum(len(v) for v in truth.values())
    hits = sum(matches(truth[k], found.get(k, []), threshold) for k in truth)
    detections = sum(len(found.get(k, [])) for k in truth)
    return {"faces": faces, "found": hits, "recall": hits / max(faces, 1), "detections": detections,
            "false": detections - hits, "false_per_image": (detections - hits) / max(len(truth), 1)}  # fmt: skip

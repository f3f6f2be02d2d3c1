"""Which checkpoints make the best ensemble? Scores every subset of the candidates on the validation split with each
TTA, computing each candidate's views once (cached under --cache) instead of once per ensemble tried.

The scoring is what `ferkit ensemble` + `ferkit evaluate --tta T` would report: per view, the members' calibrated
probabilities averaged (each member's own temperature), the ensemble's temperature fitted on the single-crop view,
then the views averaged. Select on the validation split only (PublicTest for FER2013).

Run by hand (not a test):
  python bench/ensemble_search.py runs/kd-wide56/best runs/kd-wide/best runs/wide48/best \
      [--data ../shared/datasets/fer2013] [--split PublicTest] [--tta none flip tencrop] [--min 2] [--max 4] \
      [--max-mb 25] [--weights int8]
A candidate with more classes than the first (`ferplus`) joins with its extra classes dropped (run 52).
Each line gives the ensemble's weights in MB as `ferkit export --half` writes them (or `--int8` with --weights int8);
--max-mb leaves out the ensembles that would not fit a shipped model's size limit even so.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
from pathlib import Path

import numpy as np
import torch

from ferkit.data import load_dataset
from ferkit.engine.calibration import fit_temperature
from ferkit.engine.evaluate import align_labels
from ferkit.engine.metrics import classification_report
from ferkit.fileio import atomic_path
from ferkit.models import load_model
from ferkit.models.checkpoint import stored_bytes
from ferkit.models.predict import tta_views
from ferkit.preprocess import standardize, to_uint8_tensor, to_unit


def cache_key(checkpoint: str, split: str, tta: str) -> str:
    """Changes when the checkpoint's files change (a resumed run's new best), so a stale cache is never read."""
    stamp = [checkpoint, split, tta]
    folder = Path(checkpoint)
    if folder.is_dir():
        files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
        stamp += [f"{p.name}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in files]
    return hashlib.sha256("|".join(stamp).encode()).hexdigest()[:16]


@torch.no_grad()
def view_probabilities(checkpoint: str, images: np.ndarray, tta: str, batch_size: int = 256) -> np.ndarray:
    """(V, N, K) calibrated probabilities of each TTA view, the model's own temperature applied."""
    model = load_model(checkpoint)
    model.eval()
    prep, t = model.preprocessing, float(model.temperature)
    pixels = to_uint8_tensor(images)
    out = []
    for start in range(0, len(pixels), batch_size):
        x = to_unit(pixels[start : start + batch_size], prep)  # (B, C, size, size)
        views = [model(standardize(v.contiguous(), prep)).float() for v in tta_views(x, prep, tta)]
        out.append(torch.stack([torch.softmax(v / t, 1) for v in views]))  # (V, B, K)
    return torch.cat(out, 1).numpy()


def cached_views(checkpoint: str, images: np.ndarray, split: str, tta: str, cache: Path) -> np.ndarray:
    path = cache / f"{cache_key(checkpoint, split, tta)}.npy"
    if path.exists():
        return np.load(path)
    probs = view_probabilities(checkpoint, images, tta)
    cache.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, probs)
    return probs


def on_classes(probs: np.ndarray, own: tuple[str, ...], classes: tuple[str, ...], checkpoint: str) -> np.ndarray:
    """(V, N, K) probabilities over the ensemble's classes: a candidate with more classes (`ferplus`'s contempt)
    has the others dropped and the rest renormalised, so it can be tried as a member."""
    missing = [c for c in classes if c not in own]
    if missing:
        raise SystemExit(f"{checkpoint}: has no class {', '.join(missing)}; every candidate needs {', '.join(classes)}")
    if own == classes:
        return probs
    kept = probs[..., [own.index(c) for c in classes]]
    return kept / kept.sum(-1, keepdims=True)


def ensemble_temperature(single_views: list[np.ndarray], labels: np.ndarray) -> float:
    """The temperature `ferkit ensemble` fits: on log(mean member probability) of the single-crop view."""
    logits = np.log(np.mean([v[0] for v in single_views], axis=0) + 1e-12)  # (N, K)
    return fit_temperature(logits, labels)


def ensemble_probabilities(member_views: list[np.ndarray], temperature: float) -> np.ndarray:
    """(N, K): per view the members' mean probability, re-tempered by the ensemble's T, then the views' mean."""
    mean = np.mean(member_views, axis=0)  # (V, N, K)
    z = np.log(mean + 1e-12) / temperature
    z -= z.max(-1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(-1, keepdims=True)).mean(0)


def stored_megabytes(checkpoint: str, weights_dtype: str) -> float:
    """Its weights' size in MB once exported with --half (float16) or --int8 (metadata is a few kB more)."""
    return stored_bytes(load_model(checkpoint), weights_dtype) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--data", default="../shared/datasets/fer2013")
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--tta", nargs="+", default=["none", "flip", "tencrop"])
    parser.add_argument("--min", type=int, default=1, help="smallest subset (1 scores each model alone)")
    parser.add_argument("--max", type=int, default=4, help="largest subset")
    parser.add_argument("--weights", default="float16", choices=("float16", "int8"), help="the size --max-mb counts")
    parser.add_argument("--max-mb", type=float, default=0.0, help="skip larger ensembles (0: no limit)")
    parser.add_argument("--cache", type=Path, default=Path("runs/ensemble-cache"))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)

    dataset = load_dataset(Path(args.data)).split(args.split)
    classes = load_model(args.checkpoints[0]).classes
    labels, usable = align_labels(dataset, classes)
    images, labels = dataset.images[usable], labels[usable]
    own = {c: load_model(c).classes for c in args.checkpoints}

    def views_of(c: str, tta: str) -> np.ndarray:
        return on_classes(cached_views(c, images, args.split, tta, args.cache), own[c], classes, c)

    views = {(c, tta): views_of(c, tta) for c in args.checkpoints for tta in args.tta}
    singles = {c: views_of(c, "none") for c in args.checkpoints}
    megabytes = {c: stored_megabytes(c, args.weights) for c in args.checkpoints}

    rows = []
    for size in range(args.min, min(args.max, len(args.checkpoints)) + 1):
        for subset in itertools.combinations(args.checkpoints, size):
            mb = sum(megabytes[c] for c in subset)
            if args.max_mb and mb > args.max_mb:
                continue
            t = ensemble_temperature([singles[c] for c in subset], labels) if size > 1 else 1.0
            scores = {}
            for tta in args.tta:
                probs = ensemble_probabilities([views[c, tta] for c in subset], t)
                report = classification_report(probs, labels, classes)
                scores[tta] = (report["accuracy"], report["macro_f1"])
            rows.append((max(a for a, _ in scores.values()), subset, t, scores, mb))
    print(f"{args.split} of {args.data}: {len(labels)} faces; accuracy (macro-F1) per TTA, best first")
    for _, subset, t, scores, mb in sorted(rows, key=lambda r: -r[0]):
        cells = "  ".join(f"{tta} {a:.2%} ({f:.2%})" for tta, (a, f) in scores.items())
        print(f"{' + '.join(subset)}  [T {t:.3f}, {mb:.1f} MB {args.weights}]  {cells}")


if __name__ == "__main__":
    main()

"""Do a model's BatchNorm statistics fit the faces it sees at test time? Training estimates them on augmented
batches (padded shifted crops, rotation, scaling, erased patches, in bf16 for most runs), then evaluation feeds
clean centre crops. This re-estimates every BatchNorm layer's running mean and variance on the clean training
faces (the evaluation-time transform, each face and its mirror; a cumulative average, not a moving one) and scores
the split before and after, per TTA mode: faces right and accuracy (docs/experiments.md, run 50).

Select on the validation split only. Run by hand (not a test):
  python bench/bn_recalibrate.py fast default [--data ../shared/datasets/fer2013] [--split PublicTest]
      [--tta none flip multiscale] [--no-mirror] [--faces 8192]
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ferkit.data import load_dataset
from ferkit.engine.evaluate import align_labels
from ferkit.models import load_model
from ferkit.models.predict import predict_proba
from ferkit.preprocess import normalize, to_uint8_tensor


@torch.no_grad()
def reestimate_batchnorm(model: torch.nn.Module, images: np.ndarray, mirror: bool = True, batch_size: int = 256):
    """A copy of the model whose BatchNorm running statistics are the plain average over the clean faces
    (N, H, W[, C]) uint8, and their mirror images when asked; the weights are untouched."""
    model = copy.deepcopy(model).float()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise SystemExit("the model has no BatchNorm layers to re-estimate")
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over every batch seen
    model.train()
    pixels = to_uint8_tensor(images)
    for start in tqdm(range(0, len(pixels), batch_size), desc="batchnorm statistics", leave=False):
        x = normalize(pixels[start : start + batch_size], model.preprocessing)  # (B, C, S, S)
        model(x)
        if mirror:
            model(x.flip(-1))
    return model.eval()


def faces_right(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, tta: str) -> int:
    return int((predict_proba(model, images, tta=tta).argmax(1) == labels).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="single-model names or checkpoint folders")
    parser.add_argument("--data", default="../shared/datasets/fer2013")
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--train-split", default="Training")
    parser.add_argument("--tta", nargs="+", default=["none", "flip", "multiscale"])
    parser.add_argument("--no-mirror", action="store_true", help="estimate on the faces alone, not their mirrors too")
    parser.add_argument("--faces", type=int, default=0, help="estimate on every k-th training face, about this many")
    args = parser.parse_args()
    if args.faces < 0:  # a negative count would silently mean every face
        parser.error(f"--faces: expected 0 (every training face) or a positive count, got {args.faces}")

    dataset = load_dataset(Path(args.data))
    train, test = dataset.split(args.train_split), dataset.split(args.split)
    for checkpoint in args.checkpoints:
        model = load_model(checkpoint).eval()
        labels, usable = align_labels(test, model.classes)
        images, labels = test.images[usable], labels[usable]
        _, train_usable = align_labels(train, model.classes)
        faces = train.images[train_usable]
        faces = faces[:: max(1, len(faces) // args.faces)] if args.faces else faces  # an even spread of the split
        refit = reestimate_batchnorm(model, faces, mirror=not args.no_mirror)
        for tta in args.tta:
            before, after = faces_right(model, images, labels, tta), faces_right(refit, images, labels, tta)
            n = len(labels)
            print(f"{checkpoint} {tta}: {before} -> {after} of {n} faces "
                  f"({100 * before / n:.2f}% -> {100 * after / n:.2f}%, {after - before:+d})", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

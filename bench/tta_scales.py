"""Which zooms should multi-scale test-time augmentation average? For each checkpoint, the centre crop of the face
resized to each candidate side (and its mirror), scored alone and in the sets that `--tta multiscale` could use,
plus the same for the checkpoints' ensemble (equal-weight mean of calibrated probabilities).

How `ferkit.models.predict.SCALES` was chosen (docs/experiments.md, run 27). Select on the validation split only.
Run by hand (not a test):
  python bench/tta_scales.py runs/wide48-mix/best runs/wide48/best [--data ../shared/datasets/fer2013]
      [--split PublicTest] [--sides 40 44 48 52 56]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from ferkit.data import load_dataset
from ferkit.engine.evaluate import align_labels
from ferkit.models import load_model
from ferkit.preprocess import center_crop, resize, standardize, to_uint8_tensor, to_unit


@torch.no_grad()
def side_views(checkpoint: str, images: np.ndarray, sides, batch_size: int = 256) -> dict:
    """{(side, mirrored): (N, K) calibrated probabilities} for the face resized to side, centre-cropped."""
    model = load_model(checkpoint).eval()
    prep, t = model.preprocessing, float(model.temperature)
    pixels, out = to_uint8_tensor(images), {}
    for start in range(0, len(pixels), batch_size):
        x = to_unit(pixels[start : start + batch_size], prep)  # (B, C, size, size)
        for side in sides:
            view = center_crop(resize(x, side), prep.input_size)
            for mirrored in (False, True):
                v = view.flip(-1) if mirrored else view
                p = torch.softmax(model(standardize(v.contiguous(), prep)).float() / t, 1)
                out.setdefault((side, mirrored), []).append(p)
    return {k: torch.cat(v).numpy() for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--data", default="../shared/datasets/fer2013")
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--sides", type=int, nargs="+", default=[40, 44, 48, 52, 56])
    args = parser.parse_args()

    dataset = load_dataset(Path(args.data)).split(args.split)
    labels, usable = align_labels(dataset, load_model(args.checkpoints[0]).classes)
    images, labels = dataset.images[usable], labels[usable]
    views = {c: side_views(c, images, args.sides) for c in args.checkpoints}

    def accuracy(members, sides) -> float:
        probs = np.mean([np.mean([views[c][s, m] for s in sides for m in (False, True)], 0) for c in members], 0)
        return float((probs.argmax(1) == labels).mean() * 100)

    n = len(args.sides)  # the candidates: every run of neighbouring sides, each side alone included
    candidates = [args.sides[i:j] for i in range(n) for j in range(i + 1, n + 1)]
    rows = [[c] for c in args.checkpoints] + ([args.checkpoints] if len(args.checkpoints) > 1 else [])
    print(f"{args.split}, accuracy with each set of sides (each view and its mirror averaged)")
    for members in rows:
        name = " + ".join(members)
        scores = sorted(((accuracy(members, sides), sides) for sides in candidates), reverse=True)
        print(f"{name}:")
        for score, sides in scores:
            print(f"  {score:6.2f}%  {sides}")


if __name__ == "__main__":
    main()

"""Does one single view beat the trained one? Faces right, one view each (no mirror), with the face resized to each
candidate side before the model's centre crop: a FixRes-style check for a gap between the face size the model
saw in training and the size it sees at test time (docs/experiments.md, run 38).

Select on the validation split only. Run by hand (not a test):
  python bench/single_view_sides.py fast default [--data ../shared/datasets/fer2013] [--split PublicTest]
      [--sides 44 46 48 50 52]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tta_scales import side_views

from ferkit.data import load_dataset
from ferkit.engine.evaluate import align_labels
from ferkit.models import load_model


def correct_per_side(checkpoint: str, images: np.ndarray, labels: np.ndarray, sides) -> dict:
    """{side: faces right} for the unmirrored centre crop of the face resized to side (tta_scales' views)."""
    views = side_views(checkpoint, images, sides)  # {(side, mirrored): (N, K) probabilities}
    return {side: int((views[side, False].argmax(1) == labels).sum()) for side in sides}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="model names or checkpoint folders")
    parser.add_argument("--data", default="../shared/datasets/fer2013")
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--sides", type=int, nargs="+", default=[44, 46, 48, 50, 52])
    args = parser.parse_args()

    dataset = load_dataset(Path(args.data)).split(args.split)
    for checkpoint in args.checkpoints:
        labels, usable = align_labels(dataset, load_model(checkpoint).classes)
        labels = labels[usable]  # a 7-class model is not scored on faces of other classes (CK+'s contempt)
        correct = correct_per_side(checkpoint, dataset.images[usable], labels, args.sides)
        cells = "  ".join(f"{side}: {n} ({100 * n / len(labels):.2f}%)" for side, n in correct.items())
        print(f"{checkpoint} ({len(labels)} faces)  {cells}", flush=True)


if __name__ == "__main__":
    main()

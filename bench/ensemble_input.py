"""What a member loses when an `Ensemble` hands it another input size: the model alone on its own preprocessing
against the same model as the one member of an ensemble whose input is SIZE faces cropped to CROP (resized to the
member's side by the ensemble's fixed matrix), on the first N faces of a split, with each TTA.

Run by hand (not a test), e.g. the two directions measured for docs/experiments.md run 81:
    python bench/ensemble_input.py runs/kd-fast-64/best --size 48 --crop 40 --n 1200      # 40 -> 54, upsampled
    python bench/ensemble_input.py src/ferkit/weights/teachers/wide48 --size 64 --crop 54 --n 600   # 54 -> 40 (run 6)
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from ferkit.data import load_dataset
from ferkit.engine.evaluate import align_labels
from ferkit.models import load_model
from ferkit.models.ensemble import Ensemble
from ferkit.models.predict import predict_proba


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--size", type=int, required=True, help="the ensemble's face size")
    parser.add_argument("--crop", type=int, required=True, help="the ensemble's crop (0: none)")
    parser.add_argument("--data", default="../shared/datasets/fer2013")
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--n", type=int, default=0, help="the first N usable faces (0: all)")
    parser.add_argument("--tta", nargs="+", default=["none", "multiscale"])
    args = parser.parse_args()

    model = load_model(args.checkpoint)
    wrapped = Ensemble([model], replace(model.preprocessing, size=args.size, crop=args.crop))
    split = load_dataset(args.data).split(args.split)
    labels, usable = align_labels(split, model.classes)
    images, labels = split.images[usable], labels[usable]
    if args.n:
        images, labels = images[: args.n], labels[: args.n]
    own_prep, prep = model.preprocessing, wrapped.preprocessing
    print(f"{args.checkpoint}: own input {own_prep.input_size} of {own_prep.size}, through an ensemble's "
          f"{prep.input_size} of {prep.size}; {len(labels)} faces of {args.split}")  # fmt: skip
    for tta in args.tta:
        own, through = predict_proba(model, images, tta=tta), predict_proba(wrapped, images, tta=tta)
        agree = float((own.argmax(1) == through.argmax(1)).mean())
        print(f"{tta:10s} own {100 * accuracy(own, labels):.2f}%  through the ensemble "
              f"{100 * accuracy(through, labels):.2f}%  same answer {100 * agree:.1f}%", flush=True)  # fmt: skip


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float((probs.argmax(1) == labels).mean())


if __name__ == "__main__":
    main()

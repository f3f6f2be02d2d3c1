"""Does Grad-CAM point at what matters? On every PublicTest face a model gets right, hide the 20% of input pixels
Grad-CAM ranks highest, or the 20% it ranks lowest, and measure how much the predicted class's probability drops.

Run by hand (not a test):  python bench/bench_gradcam_occlusion.py [--model fast] [--data ../shared/datasets/fer2013]
Results recorded in docs/explain.md.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ferkit.data import load_dataset
from ferkit.explain import METHODS, grad_cam
from ferkit.models import load_model
from ferkit.preprocess import normalize, to_uint8_tensor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--data", default="../shared/datasets/fer2013")
    parser.add_argument("--share", type=float, default=0.2, help="fraction of the pixels hidden")
    args = parser.parse_args()
    data = load_dataset(args.data).split("PublicTest")
    model = load_model(args.model)
    x = normalize(to_uint8_tensor(data.images), model.preprocessing)  # (N, C, S, S)
    with torch.no_grad():
        probs = torch.softmax(model(x), 1)
    right = (probs.argmax(1).numpy() == data.labels).nonzero()[0]
    x, probs = x[right], probs[right]
    pixels = x.shape[-1] * x.shape[-2]
    k = int(args.share * pixels)
    print(f"# model {args.model}, {len(x)} PublicTest faces it classifies correctly, {args.share:.0%} of pixels hidden")
    print("| method | drop, most important hidden | drop, least important hidden | faces where most > least |")
    print("|---|---|---|---|")
    for method in METHODS:
        cam = grad_cam(model, x, method=method)
        order = np.argsort(cam.heatmaps.reshape(len(x), -1), axis=1, kind="stable")  # (N, H*W) low to high
        target = torch.tensor(cam.targets)[:, None]
        drops = {}
        for region, idx in (("most", order[:, -k:]), ("least", order[:, :k])):
            mask = torch.zeros(len(x), pixels, dtype=torch.bool)
            mask[torch.arange(len(x))[:, None], torch.from_numpy(idx)] = True
            with torch.no_grad():  # 0 is the mean pixel once standardised
                after = torch.softmax(model(x.masked_fill(mask.view(len(x), 1, *x.shape[-2:]), 0.0)), 1)
            drops[region] = (probs.gather(1, target) - after.gather(1, target))[:, 0]
        wins = (drops["most"] > drops["least"]).float().mean()
        print(f"| {method} | {drops['most'].mean():.3f} | {drops['least'].mean():.3f} | {wins:.1%} |")


if __name__ == "__main__":
    main()

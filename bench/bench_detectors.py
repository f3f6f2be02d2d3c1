"""Face detectors against hand-labelled boxes: recall and precision at IoU 0.5, and milliseconds per image.

Run by hand (not a test):  python bench/bench_detectors.py ../shared/datasets/photos/face_boxes_dlib_pascal.csv
The CSV (file,dlib_split,left,top,width,height) lists every face of each image; paths are relative to its folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ferkit.faces import create_detector
from ferkit.faces.scoring import matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("boxes", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    truth: dict[str, list] = defaultdict(list)
    with open(args.boxes, newline="") as f:
        for row in csv.DictReader(f):
            truth[row["file"]].append(tuple(float(row[k]) for k in ("left", "top", "width", "height")))
    images = {name: np.asarray(ImageOps.exif_transpose(Image.open(args.boxes.parent / name)).convert("RGB"))
              for name in truth}  # fmt: skip
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores; {len(images)} images, {sum(map(len, truth.values()))} faces"
    )
    print("| detector | recall @ IoU 0.5 | precision @ IoU 0.5 | detections | ms per image (median) |")
    print("|---|---|---|---|---|")
    for name in ("mtcnn", "haar"):
        detector = create_detector(name)
        hits = found = 0
        times = []
        for file, boxes in truth.items():
            detections = detector(images[file])
            for _ in range(args.repeat):
                start = time.perf_counter()
                detector(images[file])
                times.append(time.perf_counter() - start)
            hits += matches(boxes, [d.box for d in detections])
            found += len(detections)
        total = sum(map(len, truth.values()))
        print(f"| {name} | {hits / total:.1%} ({hits}/{total}) | {hits / max(found, 1):.1%} ({hits}/{found}) | "
              f"{found} | {1000 * float(np.median(times)):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()

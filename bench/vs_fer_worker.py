"""One system's side of bench/bench_vs_fer.py, run in that system's own Python (fer in its own venv).

Reads a JSON job from stdin: {"system": "ferkit" | "fer", "images": [path, ...], "videos": [[path, every], ...],
"repeat": R, "options": {...}}. Decodes every image before any timing, runs each once to warm up, then R timed
runs; writes one JSON line per image (median and all times in ms, boxes of the first run) and per video (frames,
seconds, frames per second) to stdout. Imports only numpy and OpenCV besides the system under test.
"""

from __future__ import annotations

import json
import sys
import time

import cv2
import numpy as np


def ferkit_system(options: dict):
    from ferkit.infer import Analyzer

    analyzer = Analyzer(options.get("model", "default"), options.get("detector", "mtcnn"))

    def analyze(rgb):
        return [[float(v) for v in face.box] for face in analyzer.analyze(rgb)]

    def video(path, every):
        return sum(1 for _ in analyzer.analyze_video(path, detect_every=every))

    return analyze, video, "rgb"


def fer_system(options: dict):
    from fer.fer import FER

    detector = FER()  # its defaults: OpenCV's Haar cascade, faces of 50 px and more, mini-Xception classifier

    def analyze(bgr):
        return [[float(v) for v in face["box"]] for face in detector.detect_emotions(bgr)]

    def video(path, every):  # fer's own video loop is this, plus writing; `every` does not apply to it
        capture, count = cv2.VideoCapture(path), 0
        while True:
            ok, frame = capture.read()
            if not ok:
                return count
            detector.detect_emotions(frame)
            count += 1

    return analyze, video, "bgr"


def main() -> None:
    job = json.load(sys.stdin)
    analyze, video, order = (ferkit_system if job["system"] == "ferkit" else fer_system)(job.get("options", {}))
    decoded = [cv2.imread(path, cv2.IMREAD_COLOR) for path in job["images"]]  # (H, W, 3) BGR
    if order == "rgb":
        decoded = [np.ascontiguousarray(img[:, :, ::-1]) for img in decoded]
    for path, image in zip(job["images"], decoded):
        boxes = analyze(image)  # warm-up run; its boxes are the ones reported
        times = []
        for _ in range(job["repeat"]):
            start = time.perf_counter()
            analyze(image)
            times.append(1000 * (time.perf_counter() - start))
        print(json.dumps({"image": path, "ms": float(np.median(times)), "times": times, "boxes": boxes}), flush=True)
    for path, every in job.get("videos", []):
        video(path, every)  # warm-up: the file's pages in the cache, the models' first calls
        start = time.perf_counter()
        frames = video(path, every)
        seconds = time.perf_counter() - start
        print(json.dumps({"video": path, "every": every, "frames": frames, "seconds": seconds,
                          "fps": frames / seconds}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""Speed of reading expressions on the CPU: end-to-end latency of one 640x480 photo with one face, and classifier
throughput (faces/s) at batch 1 and 64 with PyTorch and with ONNX Runtime.

Run by hand (not a test):  python bench/bench_predict.py [--model fast] [--repeat 30] [--video CLIP.mp4 ...]
With --video, also frames per second through Analyzer.analyze_video (every frame analysed, tracking on).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ferkit.infer import Analyzer
from ferkit.infer.video import frames
from ferkit.models.export import export_onnx

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def photo_640x480() -> np.ndarray:
    """The example portrait fitted into 640x480 (one face), as a webcam frame would be."""
    img = Image.open(EXAMPLE).convert("RGB").resize((480, 480))
    canvas = Image.new("RGB", (640, 480), (90, 90, 90))
    canvas.paste(img, (80, 0))
    return np.asarray(canvas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--video", nargs="*", default=[], help="clips to time end to end")
    args = parser.parse_args()
    import onnxruntime as ort

    print(f"# {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), onnxruntime {ort.__version__}; model {args.model}; medians of {args.repeat}")  # fmt: skip
    frame = photo_640x480()
    print("| end to end, 640x480, one face | faces found | ms |")
    print("|---|---|---|")
    for detector in ("mtcnn", "haar"):
        for min_face in (20, 60):
            analyzer = Analyzer(args.model, detector, min_face=min_face)
            n = len(analyzer.analyze(frame))
            ms = median_ms(lambda a=analyzer: a.analyze(frame), args.repeat)
            print(f"| {detector}, min face {min_face} px | {n} | {ms:.1f} |")
    model = analyzer.model
    prep = model.preprocessing
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = export_onnx(model, Path(tmp) / "m.onnx")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        print("\n| classifier | batch | faces/s |")
        print("|---|---|---|")
        for batch in (1, 64):
            x = torch.randn(batch, prep.channels, prep.input_size, prep.input_size)
            with torch.no_grad():
                t = median_ms(lambda x=x: model(x), args.repeat)
            o = median_ms(lambda x=x: session.run(None, {"input": x.numpy()}), args.repeat)
            print(f"| PyTorch | {batch} | {batch * 1000 / t:,.0f} |")
            print(f"| ONNX Runtime | {batch} | {batch * 1000 / o:,.0f} |")
    if args.video:
        print("\n| video | size | frames | detector | detect every | frames/s |")
        print("|---|---|---|---|---|---|")
    settings = [("mtcnn", 20, 1), ("mtcnn", 60, 1), ("haar", 60, 1), ("mtcnn", 60, 3), ("haar", 60, 3)]
    for clip in args.video:
        for detector, min_face, every in settings:
            analyzer = Analyzer(args.model, detector, min_face=min_face)
            start = time.perf_counter()
            results = list(analyzer.analyze_video(clip, detect_every=every))
            fps = len(results) / (time.perf_counter() - start)
            h, w = next(frames(clip))[2].shape[:2]
            print(f"| {Path(clip).name} | {w}x{h} | {len(results)} | {detector}, min face {min_face} | {every} "
                  f"| {fps:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()

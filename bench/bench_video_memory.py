"""Does memory stay flat on a long video? Build an hour-long clip from a short one, run `ferkit predict` on it, and
sample the process's resident memory as it goes.

Run by hand (not a test):
    python bench/bench_video_memory.py ../shared/datasets/videos/pyfeat_single_face.mp4 --minutes 60 --stride 30
Results recorded in docs/faces.md ("Long videos").
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2


def make_long_video(clip: Path, minutes: float, out: Path) -> tuple[int, float]:
    """Write `clip` forwards then backwards, over and over, until `minutes` long; returns (frames, fps)."""
    capture = cv2.VideoCapture(str(clip))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(bgr)
    capture.release()
    loop = frames + frames[-2:0:-1]  # back and forth, so that faces move smoothly instead of jumping
    total = round(minutes * 60 * fps)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(total):
        writer.write(loop[i % len(loop)])
    writer.release()
    return total, fps


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--stride", type=int, default=30)
    parser.add_argument("--detector", default="haar")
    parser.add_argument("--save", action="store_true", help="also write the annotated video (every frame)")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between memory samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        long = Path(tmp) / "long.mp4"
        start = time.perf_counter()
        total, fps = make_long_video(args.clip, args.minutes, long)
        print(f"# {long.stat().st_size / 2**20:.0f} MiB, {total} frames at {fps:g} fps "
              f"({total / fps / 60:.0f} min), written in {time.perf_counter() - start:.0f} s")  # fmt: skip
        command = [sys.executable, "-m", "ferkit", "predict", str(long), "--json", str(Path(tmp) / "out.jsonl"),
                   "--stride", str(args.stride), "--detector", args.detector, "--timeline", tmp]  # fmt: skip
        if args.save:
            command += ["--save", str(Path(tmp) / "annotated")]
        print("# " + " ".join(command[1:]))
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = []
        while child.poll() is None:
            time.sleep(args.every)
            if child.poll() is None:
                samples.append((time.perf_counter() - start, rss_mib(child.pid)))
        wall = time.perf_counter() - start
        lines = len((Path(tmp) / "out.jsonl").read_text().splitlines())
        print(f"# exit {child.returncode}, {lines} JSON lines, {wall:.0f} s")
        print("| seconds into the run | resident MiB |\n|---|---|")
        for k in sorted({0, len(samples) // 4, len(samples) // 2, 3 * len(samples) // 4, len(samples) - 1}):
            print(f"| {samples[k][0]:.0f} | {samples[k][1]:.0f} |")
        later = [m for t, m in samples[len(samples) // 4 :]]
        print(f"# after the first quarter: min {min(later):.0f} MiB, max {max(later):.0f} MiB")


if __name__ == "__main__":
    main()

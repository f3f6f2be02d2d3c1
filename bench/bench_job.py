"""Throughput of `ferkit predict` jobs: photos per second and video frames per second, with 1 and 2 worker processes
(and a private local Ray cluster), wall clock of the whole command. A one-photo run of each measures the fixed
start-up (loading the model, starting the workers or the cluster), which is reported apart.

Run by hand (not a test), with nothing else busy on the machine:
    python bench/bench_job.py [--workers 1 2] [--ray] [--repeat-photos 3]
Results recorded in docs/scale.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"


def run(sources: list[str], extra: list[str]) -> float:
    """Seconds the whole `ferkit predict` command took."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "ferkit", "predict", *sources, "--json", f"{out}/out.jsonl", *extra]
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: some inputs are unreadable on purpose
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--ray", action="store_true", help="also a private local Ray cluster (--ray local)")
    parser.add_argument("--repeat-photos", type=int, default=3, help="the photo folder this many times over")
    args = parser.parse_args()
    photos = sorted(str(p) for p in (SHARED / "photos").rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    photos = photos * args.repeat_photos
    videos = [str(p) for p in sorted((SHARED / "videos").glob("*.mp4"))]
    frames = 115 + 72 + 98 + 5  # ../shared/datasets/videos/sources.csv
    one = [str(ROOT / "examples" / "astronaut.jpg")]
    setups = [(f"--workers {n}", ["--workers", str(n)]) for n in args.workers]
    if args.ray:
        setups.append(("--ray local", ["--ray", "local"]))
    print(f"# {os.cpu_count()} cores; {len(photos)} photos ({len(photos) // args.repeat_photos} x {args.repeat_photos})"
          f", {len(videos)} videos ({frames} frames); wall clock of the whole command")  # fmt: skip
    print("| setup | start-up s (one photo) | photos s | photos/s | photos/s after start-up | video s | frames/s "
          "| frames/s after start-up |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, extra in setups:
        startup = run(one, extra)
        p = run(photos, extra)
        v = run(videos, extra)
        warm_p, warm_v = max(p - startup, 1e-9), max(v - startup, 1e-9)  # after start-up
        print(f"| {name} | {startup:.1f} | {p:.1f} | {len(photos) / p:.1f} | {len(photos) / warm_p:.1f} "
              f"| {v:.1f} | {frames / v:.1f} | {frames / warm_v:.1f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""How much faster the disk cache makes a second load of a dataset than parsing it.

Run by hand (not a test):  python bench/bench_dataset_cache.py ../shared/datasets/fer2013 [--format F] [--repeat 3]
Prints one row per format: parse seconds (no cache), cached-load seconds (best of --repeat), and the ratio.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time

from ferkit.data import load_dataset


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--format", action="append", help="formats to time (default: auto)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| format | items | parse (s) | cached load (s) | speed-up |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["FERKIT_CACHE_DIR"] = cache
        for fmt in args.format or ["auto"]:
            parse = best_time(lambda f=fmt: load_dataset(args.path, f, cache=False), 1)
            n = len(load_dataset(args.path, fmt))  # fills the cache
            cached = best_time(lambda f=fmt: load_dataset(args.path, f), args.repeat)
            print(f"| {fmt} | {n} | {parse:.2f} | {cached:.3f} | {parse / cached:.0f}x |")


if __name__ == "__main__":
    main()

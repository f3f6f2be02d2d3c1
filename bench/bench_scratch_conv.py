"""NumPy conv2d (im2col) against torch.nn.functional.conv2d on the CPU, forward + backward, LeNet-sized layers.

Run by hand (not a test):  python bench/bench_scratch_conv.py [--batch 64] [--repeat 50] [--rounds 3]
Both run in float32 with torch's default threads. NumPy and PyTorch are timed in separate processes, taking
turns for --rounds rounds (their worker threads would otherwise compete for the cores), and each figure is the
median over all rounds of the median of --repeat calls.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

LAYERS = [
    # name, (C, H, W), (O, k), padding
    ("LeNet conv1, 28x28", (1, 28, 28), (6, 5), 2),
    ("LeNet conv2, 14x14", (6, 14, 14), (16, 5), 0),
    ("LeNet-48 conv1, 48x48", (1, 48, 48), (6, 5), 2),
    ("LeNet-48 conv2, 24x24", (6, 24, 24), (16, 5), 0),
]


def median_time(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def numpy_step(x, w, b, pad, ws: dict) -> None:
    """Forward + backward as the scratch Conv2d layer runs them: columns and work arrays reused."""
    from ferkit.scratch import functional as F

    out, cols = F.conv2d_with_columns(x, w, b, 1, pad, ws)
    F.conv2d_backward(np.ones_like(out), x, w, 1, pad, cols=cols, ws=ws)


def torch_step(x, w, b, pad, ws: dict) -> None:
    import torch

    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    out = torch.nn.functional.conv2d(tx, tw, tb, padding=pad)
    out.backward(torch.ones_like(out))


def time_layers(which: str, batch: int, repeat: int) -> list[float]:
    rng = np.random.default_rng(0)
    step = numpy_step if which == "numpy" else torch_step
    times = []
    for _, (c, h, w), (o, k), pad in LAYERS:
        x = rng.standard_normal((batch, c, h, w)).astype(np.float32)
        wt, b = rng.standard_normal((o, c, k, k)).astype(np.float32), rng.standard_normal(o).astype(np.float32)
        ws: dict = {}
        times.append(median_time(lambda x=x, wt=wt, b=b, pad=pad, ws=ws: step(x, wt, b, pad, ws), repeat))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("numpy", "torch"), help=argparse.SUPPRESS)  # one child process
    args = parser.parse_args()
    if args.only:
        print(json.dumps(time_layers(args.only, args.batch, args.repeat)))
        return
    runs: dict[str, list[list[float]]] = {"numpy": [], "torch": []}
    for _ in range(args.rounds):
        for which in runs:
            cmd = [sys.executable, __file__, "--only", which, "--batch", str(args.batch), "--repeat", str(args.repeat)]
            runs[which].append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))
    import torch

    setup = f"batch {args.batch}, float32, {args.rounds} rounds x {args.repeat} calls"
    print(f"# {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); {setup}")  # fmt: skip
    print("| layer | numpy fwd+bwd (ms) | torch fwd+bwd (ms) | numpy / torch |")
    print("|---|---|---|---|")
    ours, theirs = np.median(runs["numpy"], axis=0), np.median(runs["torch"], axis=0)
    for (name, *_), a, t in zip(LAYERS, ours, theirs):
        print(f"| {name} | {a * 1e3:.2f} | {t * 1e3:.2f} | {a / t:.2f}x |")


if __name__ == "__main__":
    main()

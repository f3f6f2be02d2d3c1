"""Distillation's teacher forward pass on the CPU: as loaded (NCHW, batch norm as separate layers) against what the
trainer runs (batch norm folded into the convs, channels_last), in the trainer's precision, the two
interleaved round by round so that the machine's drift cancels out of the ratio.

Run by hand on a quiet machine (not a test):
  python bench/bench_teacher.py runs/wide48-mix/best,runs/kd-wide56/best [--batch 64] [--rounds 10] [--repeat 10]
Results recorded in docs/training.md ("Knowledge distillation").
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
import torch
from bench_predict import median_ms  # bench/ is on sys.path when run as a script

from ferkit.engine.precision import autocast, resolve_precision
from ferkit.models import load_model
from ferkit.models.ensemble import Ensemble
from ferkit.models.fuse import fuse_batchnorm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("teachers", help="checkpoints or shipped names, comma-separated, as --teacher takes them")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=10, help="calls per variant in each round")
    args = parser.parse_args()
    device = torch.device("cpu")
    precision = resolve_precision("auto", device)
    plain = Ensemble([load_model(n.strip()) for n in args.teachers.split(",")]).eval()
    fused = fuse_batchnorm(plain).to(memory_format=torch.channels_last)
    prep = plain.preprocessing
    x = torch.randn(args.batch, prep.channels, prep.input_size, prep.input_size)  # (B, C, crop, crop)
    x = x.contiguous(memory_format=torch.channels_last)  # as the trainer lays out the student's batch
    variants = {"as loaded (NCHW, batch norm)": plain, "fused, channels_last (trainer)": fused}
    print(f"# {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), {precision}; teachers {args.teachers}; batch {args.batch}")  # fmt: skip
    samples = {name: [] for name in variants}
    with torch.no_grad(), autocast(precision, device):
        for _ in range(args.rounds):
            for name, model in variants.items():
                samples[name].append(median_ms(lambda m=model: m.member_logits(x), args.repeat))
    print("| teacher forward | ms per batch | images/s |\n|---|---|---|")
    for name, times in samples.items():
        ms = float(np.median(times))
        print(f"| {name} | {ms:.1f} | {1000 * args.batch / ms:.0f} |")


if __name__ == "__main__":
    main()

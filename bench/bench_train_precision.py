"""fp32 vs bf16 training throughput, side by side in one run, on the real training data.

For each model and precision: the bare training step (forward, backward, SGD on a fixed batch) and the trainer's own
epoch loop (`run_epoch`: sampling, augmentation on the device, mixing, the step, EMA, progress bar) over the first
`--steps` batches of FER2013 Training, after a warm-up. The second is what `ferkit train` reports as img/s.
Run by hand, with nothing else busy on the machine:

    python bench/bench_train_precision.py [--data ../shared/datasets/fer2013] [--models fastnet fastnet:48 vgg]

Results are recorded in docs/training.md.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F

from ferkit.config import load_config
from ferkit.engine.precision import autocast, cpu_has_bf16, cpu_info, resolve_precision
from ferkit.engine.trainer import Run, run_epoch

WIDTHS = {"fastnet:48": [48, 96, 192, 384], "fastnet:64": [64, 128, 256, 512]}


def model_overrides(spec: str) -> list[str]:
    name = spec.split(":")[0]
    out = [f"model.name={name}"]
    if spec in WIDTHS:
        out.append(f"model.args={{widths: {WIDTHS[spec]}}}")
    return out


def bare_steps(run: Run, steps: int) -> float:
    """Images per second of forward + backward + SGD on one fixed batch (no data path at all)."""
    x = torch.randn(run.batch_size, run.prep.channels, run.prep.input_size, run.prep.input_size)
    x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, len(run.classes), (run.batch_size,))

    def step():
        with autocast(run.precision, run.device):
            logits = run.model(x)
        loss = F.cross_entropy(logits.float(), y)
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        run.opt.step()

    for _ in range(3):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * run.batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/datasets/fer2013")
    parser.add_argument("--models", nargs="+", default=["fastnet"], help="fastnet, fastnet:48, fastnet:64, vgg, ...")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=80, help="batches timed per measurement")
    args = parser.parse_args()
    vendor = cpu_info()[0] or platform.machine()
    auto = resolve_precision("auto", torch.device("cpu"))
    print(f"{vendor}, {torch.get_num_threads()} threads, torch {torch.__version__}, native bf16: {cpu_has_bf16()},"
          f" train.precision auto picks {auto}")  # fmt: skip
    print(f"{'model':<12}{'precision':<11}{'step img/s':>12}{'epoch loop img/s':>18}")
    for spec in args.models:
        results = {}
        for precision in ("fp32", "bf16"):
            overrides = [f"data.path={args.data}", "model.crop=40", "train.label_smoothing=0.1", "out=/tmp/bench",
                         f"train.batch_size={args.batch_size}", f"train.precision={precision}",
                         "train.device=cpu", *model_overrides(spec)]  # fmt: skip
            run = Run(load_config(None, overrides), log=lambda m: None)
            step_rate = bare_steps(run, args.steps // 2)
            run.steps_per_epoch = args.steps
            run_epoch(run, 0)  # warm-up: first-touch allocations and oneDNN's kernel choices
            _, _, loop_rate = run_epoch(run, 1)
            results[precision] = (step_rate, loop_rate)
            print(f"{spec:<12}{precision:<11}{step_rate:>12.0f}{loop_rate:>18.0f}", flush=True)
        (s32, l32), (s16, l16) = results["fp32"], results["bf16"]
        print(f"{spec:<12}{'bf16/fp32':<11}{s16 / s32:>11.2f}x{l16 / l32:>17.2f}x")


if __name__ == "__main__":
    main()

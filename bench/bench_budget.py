"""Issue 12's CPU budget: a candidate `default` may take at most 3x `fast`'s time per face. Times the classifiers
alone (no detection) with PyTorch and with ONNX Runtime (what `--runtime auto` uses) at batch 1 and 64, the models
interleaved round by round so that the machine's drift over the run cancels out of the ratios.

Run by hand on a quiet machine (not a test):
  python bench/bench_budget.py fast default runs/kd-wide56/best [--rounds 15] [--repeat 40]
The first model is the reference; each row gives the median ms per face and the ratio to the reference.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from bench_predict import median_ms  # bench/ is on sys.path when run as a script

from ferkit.models import load_model
from ferkit.models.export import export_onnx

BATCHES = (1, 64)


def ms_per_face(fn, batch: int, repeat: int) -> float:
    """Median over `repeat` calls of one batch, in ms per face."""
    return median_ms(fn, repeat) / batch


def runners(name: str, folder: Path) -> dict[tuple[str, int], object]:
    """(runtime, batch) -> a callable classifying one fixed batch."""
    model = load_model(name).eval()
    prep = model.preprocessing
    onnx_path, _ = export_onnx(model, folder / f"{abs(hash(name))}.onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out = {}
    for batch in BATCHES:
        x = torch.randn(batch, prep.channels, prep.input_size, prep.input_size)  # (B, C, crop, crop)
        array = x.numpy()
        out["PyTorch", batch] = lambda x=x: model(x)
        out["ONNX Runtime", batch] = lambda a=array: session.run(None, {"input": a})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="the reference (e.g. fast) first")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=40, help="calls per model and setting in each round")
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), onnxruntime {ort.__version__}; {args.rounds} rounds x {args.repeat} calls")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        calls = {name: runners(name, Path(tmp)) for name in args.models}
        samples = {(name, key): [] for name in args.models for key in calls[name]}
        for _ in range(args.rounds):
            for name in args.models:
                for key, fn in calls[name].items():
                    samples[name, key].append(ms_per_face(fn, key[1], args.repeat))
    reference = args.models[0]
    print("| model | runtime | batch | ms per face | × " + reference + " |")
    print("|---|---|---|---|---|")
    for name in args.models:
        for runtime, batch in calls[name]:
            ms = float(np.median(samples[name, (runtime, batch)]))
            ratio = ms / float(np.median(samples[reference, (runtime, batch)]))
            print(f"| {name} | {runtime} | {batch} | {ms:.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()

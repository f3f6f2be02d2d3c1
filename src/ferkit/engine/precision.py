"""Mixed precision for training: bf16 autocast where the hardware trains faster in bf16, fp32 elsewhere.

Master weights, optimizer state and checkpoints stay fp32 in every case; only the forward pass (and so the
backward pass's matrix products) runs in bf16. Native bf16 instructions are not enough for bf16 to be faster:
a `fastnet` training step ran at 2.6x fp32's speed on an Intel CPU with AMX (issue 12's measurement), and
`python bench/bench_train_precision.py`'s epoch loop at 1.75x on an AMD EPYC with AVX-512 BF16 (whose fp32 runs
512-bit vectors at half rate) but 0.79x on an Intel Xeon with AVX-512 BF16 and no AMX (a VM that hides AMX), where
fp32 uses both full-width FMA units. Without native
bf16 PyTorch emulates it, slower still. So `auto` asks the CPU which of those it is.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

from ferkit.errors import FerkitError

PRECISIONS = ("auto", "bf16", "fp32")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of x86 CPUs that compute in bf16


@functools.cache
def cpu_info() -> tuple[str, frozenset[str]]:
    """(vendor_id, flags) of this CPU from /proc/cpuinfo; ("", frozenset()) where it cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "", frozenset()
    first_cpu = text.split("\n\n")[0]  # one block of "key : value" lines per logical CPU, all alike
    fields = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in first_cpu.splitlines())}
    return fields.get("vendor_id", ""), frozenset(fields.get("flags", "").split())


def cpu_has_bf16() -> bool:
    """Whether this CPU has native bf16 arithmetic (AVX-512 BF16 or AMX); False where it cannot be told."""
    return any(flag in cpu_info()[1] for flag in BF16_CPU_FLAGS)


def cpu_trains_faster_in_bf16() -> bool:
    """Whether bf16 autocast beats fp32 on this CPU (measurements in the module docstring): with AMX, or with
    AVX-512 BF16 on AMD; not with AVX-512 BF16 alone on Intel, nor without native bf16."""
    vendor, flags = cpu_info()
    return "amx_bf16" in flags or ("avx512_bf16" in flags and vendor == "AuthenticAMD")


def resolve_precision(name: str, device: torch.device, field: str = "train.precision") -> str:
    """'bf16' or 'fp32' for a train.precision setting on a device."""
    if name not in PRECISIONS:
        raise FerkitError(f"{field} must be one of {', '.join(PRECISIONS)}, not {name!r}")
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_trains_faster_in_bf16() else "fp32"


def resolve_teacher_precision(name: str, training_precision: str, device: torch.device) -> str:
    """'bf16' or 'fp32' for a train.teacher_precision setting: 'same' follows the student's resolved precision."""
    if name == "same":
        return training_precision
    return resolve_precision(name, device, "train.teacher_precision (or same)")


def autocast(precision: str, device: torch.device):
    """The context the forward pass runs in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, torch.bfloat16)
    return contextlib.nullcontext()

"""Mixed precision for training: bf16 autocast where the hardware computes in bf16 natively, fp32 elsewhere.

Master weights, optimizer state and checkpoints stay fp32 in every case; only the forward pass (and so the
backward pass's matrix products) runs in bf16. On a CPU without native bf16 instructions PyTorch emulates bf16,
which is slower than fp32, so `auto` asks the CPU what it has.
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
def cpu_has_bf16() -> bool:
    """Whether this CPU has native bf16 arithmetic (AVX-512 BF16 or AMX); False where it cannot be told."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def resolve_precision(name: str, device: torch.device) -> str:
    """'bf16' or 'fp32' for a train.precision setting on a device."""
    if name not in PRECISIONS:
        raise FerkitError(f"train.precision must be one of {', '.join(PRECISIONS)}, not {name!r}")
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_bf16() else "fp32"


def autocast(precision: str, device: torch.device):
    """The context the forward pass runs in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, torch.bfloat16)
    return contextlib.nullcontext()

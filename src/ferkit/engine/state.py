"""Resumable training state: the 'last' checkpoint plus optimizer, EMA and loop state, swapped in atomically.

Tensors go to safetensors and everything else to JSON, so nothing is ever unpickled. The whole folder is
written beside the old one and renamed over it, so a run killed at any moment leaves one complete state.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ferkit.errors import FerkitError
from ferkit.models.checkpoint import save_checkpoint

STATE_TENSORS, STATE_META = "train_state.safetensors", "train_state.json"


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, entries in sd["state"].items():
        for name, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optim.{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _restore_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    for key, value in meta["scalars"].items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_state(folder: Path, model, model_meta: dict, opt, ema, loop: dict) -> None:
    """Write checkpoint + optimizer + EMA + loop state (epoch, history, ...) as one folder, atomically."""
    tmp = folder.with_name(f".{folder.name}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    save_checkpoint(tmp, model, model_meta)
    tensors, opt_meta = _flatten_optimizer(opt)
    if ema is not None:
        tensors.update({f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.state_dict().items()})
    save_file(tensors, str(tmp / STATE_TENSORS))
    (tmp / STATE_META).write_text(json.dumps({"optimizer": opt_meta, "loop": loop}, indent=1))
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def find_state(folder: Path) -> Path | None:
    """The last complete state folder (also the old one, if a run died between the two renames)."""
    for candidate in (folder, folder.with_name(f".{folder.name}.old")):
        if (candidate / STATE_META).is_file():
            return candidate
    return None


def load_state(folder: Path, model, opt, ema) -> dict:
    """Restore weights, optimizer and EMA in place; returns the loop state."""
    try:
        tensors = load_file(str(folder / STATE_TENSORS))
        meta = json.loads((folder / STATE_META).read_text())
        weights = load_file(str(folder / "model.safetensors"))
    except (OSError, ValueError, SafetensorError, json.JSONDecodeError) as exc:
        raise FerkitError(f"{folder}: cannot resume from this state ({exc})") from None
    getattr(model, "module", model).load_state_dict(weights)
    _restore_optimizer(opt, tensors, meta["optimizer"])
    if ema is not None:
        ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    return meta["loop"]

"""Checkpoints that describe themselves: safetensors weights + JSON metadata, written atomically, no pickle.

A checkpoint folder holds `model.safetensors` (the state dict) and `model.json`: architecture name and
arguments, class names, preprocessing, calibration temperature, and whatever the trainer adds (config, metrics,
data fingerprint). `load_model` rebuilds a ready model from these two files alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ferkit import __version__
from ferkit.errors import FerkitError
from ferkit.fileio import atomic_path, atomic_write_text
from ferkit.models.ensemble import ARCH as ENSEMBLE
from ferkit.models.ensemble import Ensemble
from ferkit.models.registry import create_model
from ferkit.preprocess import Preprocessing

WEIGHTS, META = "model.safetensors", "model.json"
FORMAT = "ferkit-checkpoint/1"
SHIPPED = Path(__file__).resolve().parent.parent / "weights"  # models that ship inside the package, by name
WEIGHTS_DTYPES = ("float32", "float16", "int8")
SCALE = ".int8_scale"  # suffix of the key holding an int8 tensor's per-output-channel scales


def save_checkpoint(directory: str | Path, model: torch.nn.Module, meta: dict, weights_dtype: str = "float32") -> Path:
    """Write the model's weights, then its metadata (the metadata last: a folder with model.json is complete).

    weights_dtype "float16" stores the floating-point tensors in half the bytes; "int8" stores each convolution and
    linear kernel as int8 with one float32 scale per output channel (about a quarter of the bytes) and the rest in
    float16. Loading casts them back to the model's float32, so only the rounding of the weights themselves is lost.
    """
    if weights_dtype not in WEIGHTS_DTYPES:
        raise FerkitError(f"weights_dtype must be one of {', '.join(WEIGHTS_DTYPES)}, not {weights_dtype!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in _unwrap(model).state_dict().items()}
    state = stored_state(state, weights_dtype)
    if weights_dtype != "float32":
        meta = {**meta, "weights_dtype": weights_dtype}
    with atomic_path(directory / WEIGHTS) as tmp:
        save_file(state, str(tmp))
    full = {
        "format": FORMAT,
        "ferkit_version": __version__,
        "arch": _unwrap(model).arch,
        "arch_args": _unwrap(model).arch_args,
        **meta,
    }
    atomic_write_text(directory / META, json.dumps(full, indent=2, default=_json_default))
    return directory


def quantizable(tensor: torch.Tensor) -> bool:
    """Kernels of convolutions and linear layers (2+ dims), where the bytes are; biases and batch-norm statistics are
    few and sensitive, so they stay floating point."""
    return tensor.is_floating_point() and tensor.dim() >= 2


def quantize_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-output-channel int8: w ≈ q * scale[:, None, ...], |error| ≤ scale / 2 per channel."""
    flat = w.float().reshape(len(w), -1)  # (out, rest)
    scale = flat.abs().amax(1) / 127  # (out,)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-zero channel stays zero
    q = torch.round(flat / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q.reshape(w.shape), scale


def stored_state(state: dict[str, torch.Tensor], weights_dtype: str) -> dict[str, torch.Tensor]:
    """The state dict as written for weights_dtype (integer buffers unchanged)."""
    if weights_dtype == "float32":
        return state
    out = {}
    for key, value in state.items():
        if weights_dtype == "int8" and quantizable(value):
            out[key], out[key + SCALE] = quantize_int8(value)
        else:
            out[key] = value.half() if value.is_floating_point() else value
    return out


def restored_state(state: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """Undo stored_state's int8: each int8 kernel times its scales (float16 tensors are cast by load_state_dict)."""
    out = {}
    for key, value in state.items():
        if key.endswith(SCALE):
            continue
        if value.dtype == torch.int8 and value.dim() >= 2:
            scale = state.get(key + SCALE)
            if scale is None or scale.shape != (len(value),):
                raise FerkitError(f"{path}: int8 tensor {key!r} has no {len(value)} per-channel scales ({key}{SCALE})")
            value = value.float() * scale.float().reshape(-1, *[1] * (value.dim() - 1))
        out[key] = value
    return out


def stored_bytes(model: torch.nn.Module, weights_dtype: str) -> int:
    """The bytes save_checkpoint would write for the model's tensors (safetensors' small header aside)."""
    state = stored_state(_unwrap(model).state_dict(), weights_dtype)
    return sum(v.numel() * v.element_size() for v in state.values())


def save_ensemble(directory: str | Path, members: list[str], meta: dict) -> Path:
    """Write an ensemble checkpoint: model.json naming its members (paths relative to `directory`, or shipped
    names) and no weights of its own; `meta` holds classes, preprocessing, calibration and metrics."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    full = {"format": FORMAT, "ferkit_version": __version__, "arch": ENSEMBLE, "members": list(members), **meta}
    atomic_write_text(directory / META, json.dumps(full, indent=2, default=_json_default))
    return directory


def _load_single(folder: Path, meta: dict) -> torch.nn.Module:
    model = create_model(meta["arch"], **meta["arch_args"])
    try:
        state = restored_state(load_file(str(folder / WEIGHTS), device="cpu"), folder / WEIGHTS)
        model.load_state_dict(state)  # copies into the float32 parameters: float16 weights are cast back
    except (OSError, RuntimeError, ValueError, SafetensorError) as exc:  # missing, truncated, mismatched
        raise FerkitError(f"{folder / WEIGHTS}: cannot load weights for {meta['arch']} ({exc})") from None
    return model


def _load_ensemble(folder: Path, meta: dict, within: tuple) -> torch.nn.Module:
    """An Ensemble of the members `meta` names: each a folder relative to the ensemble's, or a shipped name."""
    members = meta.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        raise FerkitError(f"{folder / META}: an ensemble names its members as a non-empty list of checkpoints")
    if folder.resolve() in within:
        raise FerkitError(f"{folder}: the ensemble contains itself")
    loaded = []
    for name in members:
        relative = folder / name
        target = relative if (relative / META).is_file() else name
        try:
            loaded.append(load_model(target, "cpu", within + (folder.resolve(),)))
        except FerkitError as exc:
            raise FerkitError(f"{folder / META}: member {name!r}: {exc}") from None
    return Ensemble(loaded, Preprocessing.from_dict(meta["preprocessing"]))


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside DistributedDataParallel or torch.compile wrappers."""
    return getattr(model, "module", getattr(model, "_orig_mod", model))


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Shipped names that point at another shipped model (none today: `default`, the best single model within 3x the
# per-face CPU time of `fast`, has its own weights since the 80-epoch wide fastnet; see docs/experiments.md).
ALIASES: dict[str, str] = {}


def shipped_models() -> list[str]:
    """Names that load a model inside the package: the folders under weights/ and the aliases."""
    folders = sorted(p.name for p in SHIPPED.iterdir() if (p / META).is_file()) if SHIPPED.is_dir() else []
    return folders + sorted(a for a, target in ALIASES.items() if target in folders and a not in folders)


def resolve_checkpoint(path_or_name: str | Path) -> Path:
    """The checkpoint folder for a path (folder, model.json or model.safetensors) or a shipped model's name."""
    path = Path(path_or_name)
    if path.is_file() and path.name in (WEIGHTS, META):
        path = path.parent
    if (path / META).is_file():
        return path
    name = str(path_or_name)
    name = name if (SHIPPED / name / META).is_file() else ALIASES.get(name, name)
    if (SHIPPED / name / META).is_file():
        return SHIPPED / name
    raise FerkitError(
        f"{path_or_name}: not a checkpoint folder (no {META}) and not a shipped model"
        f" (shipped: {', '.join(shipped_models()) or 'none yet'})"
    )


REQUIRED_META = {"arch": str, "classes": list, "preprocessing": dict}  # what load_model reads from every model.json


def read_meta(path_or_name: str | Path) -> dict:
    folder = resolve_checkpoint(path_or_name)
    try:
        meta = json.loads((folder / META).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise FerkitError(f"{folder / META}: unreadable checkpoint metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise FerkitError(f"{folder / META}: format {found!r} is not {FORMAT}")
    missing = [key for key in REQUIRED_META if not isinstance(meta.get(key), REQUIRED_META[key])]
    if missing:
        raise FerkitError(f"{folder / META}: no valid {', '.join(missing)} (a checkpoint's model.json names its "
                          "arch, its classes as a list and its preprocessing as an object)")  # fmt: skip
    return meta


def load_model(path_or_name: str | Path, device: str | torch.device = "cpu", _within: tuple = ()) -> torch.nn.Module:
    """Rebuild a trained model (or an ensemble of them) from its checkpoint, in eval mode, with `.meta`,
    `.classes`, `.preprocessing` and `.temperature` (1.0 when uncalibrated) attached."""
    folder = resolve_checkpoint(path_or_name)
    meta = read_meta(folder)
    model = _load_ensemble(folder, meta, _within) if meta["arch"] == ENSEMBLE else _load_single(folder, meta)
    model.meta = meta
    model.classes = tuple(meta["classes"])
    model.preprocessing = Preprocessing.from_dict(meta["preprocessing"])
    model.temperature = float(meta.get("calibration", {}).get("temperature", 1.0))
    return model.to(device).eval()

"""Export a checkpoint to ONNX for onnxruntime and other runtimes, verified against PyTorch before it is kept.

The ONNX file carries the checkpoint's classes, preprocessing and temperature in its metadata, so it is as
self-describing as the checkpoint. Inputs are the preprocessed faces (N, C, S, S) float32; outputs are logits.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from ferkit.errors import FerkitError
from ferkit.fileio import atomic_path
from ferkit.models.checkpoint import load_model

TOLERANCE = 1e-4  # max |onnxruntime - PyTorch| on the logits


def export_onnx(model_or_path, out: str | Path, opset: int = 17) -> tuple[Path, float]:
    """Write `out` (.onnx) and return it with the max abs logit difference measured on random inputs."""
    try:
        import onnx
        import onnxruntime as ort
    except ImportError:
        raise FerkitError("ONNX export needs onnx and onnxruntime: pip install 'ferkit[export]'") from None
    model = load_model(model_or_path) if isinstance(model_or_path, str | Path) else model_or_path
    model = model.float().eval()
    prep = model.preprocessing
    dummy = torch.zeros(1, prep.channels, prep.input_size, prep.input_size)
    out = Path(out)
    with atomic_path(out) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice; it needs no extras
            torch.onnx.export(model, (dummy,), str(tmp), input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset,
                              dynamo=False)  # fmt: skip
        proto = onnx.load(str(tmp))
        meta = {k: model.meta.get(k) for k in ("arch", "arch_args", "classes", "preprocessing", "calibration")}
        onnx.helper.set_model_props(proto, {"ferkit": json.dumps(meta)})
        onnx.save(proto, str(tmp))
        session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        x = torch.randn(8, prep.channels, prep.input_size, prep.input_size, generator=torch.Generator().manual_seed(0))
        diff = max_difference(model, session, x)
        if diff > TOLERANCE:
            raise FerkitError(
                f"ONNX export of {model.arch} differs from PyTorch by {diff:.2e} (> {TOLERANCE}); not written"
            )
    return out, diff


def max_difference(model: torch.nn.Module, session, x: torch.Tensor) -> float:
    """max |onnxruntime(x) - model(x)| over the logits of a preprocessed batch x (N, C, S, S)."""
    with torch.no_grad():
        expected = model(x).numpy()
    got = session.run(None, {"input": x.numpy().astype(np.float32)})[0]
    return float(np.abs(got - expected).max())


def onnx_metadata(path: str | Path) -> dict:
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return json.loads(props.get("ferkit", "{}"))


# What save_checkpoint writes itself; the rest of a loaded model's metadata travels unchanged.
_OWN_KEYS = ("format", "ferkit_version", "arch", "arch_args", "members", "weights_dtype")


def export_checkpoint(model_or_path, out: str | Path, weights_dtype: str = "float32") -> Path:
    """Write a self-contained copy of a checkpoint to the folder `out`: weights (float32, float16 or int8, as
    save_checkpoint stores them) and metadata; an ensemble's members, whether folders or shipped names, are written
    inside it as members/0, members/1, ...
    Returns `out`, which loads with `load_model` wherever it is moved."""
    from ferkit.models.checkpoint import save_checkpoint, save_ensemble
    from ferkit.models.ensemble import Ensemble

    model = load_model(model_or_path) if isinstance(model_or_path, str | Path) else model_or_path
    out = Path(out)
    if (out / "model.json").exists() or (out / "members").exists():
        raise FerkitError(f"{out}: already holds a checkpoint; choose an empty folder")
    meta = {k: v for k, v in model.meta.items() if k not in _OWN_KEYS}
    if isinstance(model, Ensemble):
        names = [f"members/{i}" for i in range(len(model.members))]
        for name, member in zip(names, model.members, strict=True):
            export_checkpoint(member, out / name, weights_dtype)
        return save_ensemble(out, names, meta)
    return save_checkpoint(out, model, meta, weights_dtype)

"""Class probabilities from a trained model, with optional test-time augmentation: the one inference path
shared by evaluation, prediction and serving."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ferkit.preprocess import Preprocessing, center_crop, resize, standardize, to_uint8_tensor, to_unit

TTA_MODES = ("none", "flip", "tencrop", "multiscale")
SHIFT = 4  # pixels: ten-crop without a crop size takes windows shifted this far
# multiscale: the face resized to these multiples of the network's input side, then centre-cropped to it. For the
# shipped models (40-pixel crops of 48-pixel faces) that is 40, 44, 48 and 52 pixels: the whole face squeezed, the
# usual crop and two zooms between and beyond. Chosen on PublicTest over {40..56} (docs/experiments.md, run 27).
SCALES = (1.0, 1.1, 1.2, 1.3)


def tta_views(x: torch.Tensor, prep: Preprocessing, tta: str) -> list[torch.Tensor]:
    """(B, C, size, size) faces in [0, 1] -> the network inputs to average: 1, 2, 10 or 8 views."""
    if tta == "multiscale":
        views = [center_crop(resize(x, round(prep.input_size * f)), prep.input_size) for f in SCALES]
        return views + [v.flip(-1) for v in views]
    if tta == "tencrop":
        out = prep.input_size
        src = x if prep.crop else F.pad(x, [SHIFT] * 4, mode="replicate")
        side, last = src.shape[-1], src.shape[-1] - out
        corners = [(0, 0), (0, last), (last, 0), (last, last), ((side - out) // 2, (side - out) // 2)]
        crops = [src[..., top : top + out, left : left + out] for top, left in corners]
        return crops + [c.flip(-1) for c in crops]
    view = center_crop(x, prep.crop)
    return [view, view.flip(-1)] if tta == "flip" else [view]


@torch.no_grad()
def predict_logits(model: torch.nn.Module, images, batch_size: int = 256, tta: str = "none",
                   forward=None) -> np.ndarray:  # fmt: skip
    """(N, K) logits of uint8 images (N, H, W[, C]), averaged over the TTA views. `forward` computes the logits
    in the model's place (ferkit.models.runtime: onnxruntime); default: the model."""
    return _run(model, images, batch_size, tta, probabilities=False, forward=forward)


@torch.no_grad()
def predict_proba(model: torch.nn.Module, images, batch_size: int = 256, tta: str = "none",
                  forward=None) -> np.ndarray:  # fmt: skip
    """(N, K) calibrated probabilities (the model's temperature applied), averaged over the TTA views."""
    return _run(model, images, batch_size, tta, probabilities=True, forward=forward)


def _run(model, images, batch_size: int, tta: str, probabilities: bool, forward=None) -> np.ndarray:
    if tta not in TTA_MODES:
        raise ValueError(f"tta must be one of {', '.join(TTA_MODES)}, not {tta!r}")
    prep: Preprocessing = model.preprocessing
    temperature = float(getattr(model, "temperature", 1.0))
    device = next(model.parameters()).device
    pixels = to_uint8_tensor(images) if isinstance(images, np.ndarray) else images
    model.eval()
    out = []
    for start in range(0, len(pixels), batch_size):
        x = to_unit(pixels[start : start + batch_size].to(device), prep)  # (B, C, size, size)
        views = [(forward or model)(standardize(v.contiguous(), prep)).float() for v in tta_views(x, prep, tta)]
        if probabilities:
            out.append(torch.stack([torch.softmax(v / temperature, 1) for v in views]).mean(0).cpu())
        else:
            out.append(torch.stack(views).mean(0).cpu())
    k = len(model.classes) if hasattr(model, "classes") else None
    return torch.cat(out).numpy() if out else np.zeros((0, k or 0), np.float32)

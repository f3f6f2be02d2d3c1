"""Grad-CAM and Grad-CAM++: which parts of the input raised the score of a class.

Both weight the channels of a feature map A (B, C, h, w) by how the class score y depends on them, sum, keep the
positive part and scale it up to the input:
- Grad-CAM (Selvaraju et al. 2017): weight_c = mean over h, w of dy/dA_c;
- Grad-CAM++ (Chattopadhay et al. 2018): weight_c = sum over h, w of alpha * relu(dy/dA_c), with
  alpha = g^2 / (2 g^2 + sum(A_c) g^3) for g = dy/dA_c (the closed form for an exponential score).

The feature map is the model's `forward_features` output (the last one before the head) unless `layer` names
another module, whose output is then captured with hooks.

An ensemble has no single feature map: its heatmap is the mean of its members' heatmaps (each scaled to [0, 1]),
every member explaining the class the ensemble predicts (or `target`), then scaled to [0, 1] again. A `layer`
inside one member (`members.0.features.10`) explains the ensemble's score through that member's map alone.
A member whose input side differs from the ensemble's has its map carried back to the ensemble's pixels by the
transpose of the resize that made its input, before the average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ferkit.models.ensemble import Ensemble

METHODS = ("gradcam", "gradcam++")


@dataclass
class CamResult:
    heatmaps: np.ndarray  # (B, H, W) float32 in [0, 1], the input's height and width
    targets: list[int]  # the class explained for each input
    probs: np.ndarray  # (B, K) the model's probabilities (temperature applied)
    layer: str  # the feature map used


def layer_names(model: torch.nn.Module) -> list[str]:
    """Names `--layer` accepts: every module with a 4-D output worth looking at (convolutions and blocks)."""
    return [name for name, m in model.named_modules() if name and isinstance(m, torch.nn.Conv2d | torch.nn.Sequential)]


def _features_and_logits(model, x: torch.Tensor, layer: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(feature map, logits), the map still in the autograd graph."""
    if layer is None:
        features = model.forward_features(x)  # (B, C, h, w)
        return features, model.forward_head(features)
    modules = dict(model.named_modules())
    if layer not in modules:
        raise KeyError(f"no layer {layer!r} in {type(model).__name__}; choose one of {', '.join(layer_names(model))}")
    captured = []

    def keep(module, inputs, output):
        captured.append(output)

    handle = modules[layer].register_forward_hook(keep)
    try:
        logits = model(x)
    finally:
        handle.remove()
    if not captured or captured[-1].dim() != 4:
        raise KeyError(f"layer {layer!r} does not output a (B, C, h, w) feature map")
    return captured[-1], logits


def grad_cam(model: torch.nn.Module, x: torch.Tensor, target: int | list[int] | None = None,
             method: str = "gradcam", layer: str | None = None) -> CamResult:  # fmt: skip
    """Heatmaps for a batch of network inputs x (B, C, H, W), for class `target` (default: each prediction)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if layer is None and isinstance(model, Ensemble):
        return _ensemble_cam(model, x, target, method)
    model.eval()
    x = x.detach().requires_grad_(False)
    with torch.enable_grad():
        features, logits = _features_and_logits(model, x, layer)
        targets = _targets(target, logits)
        score = logits.gather(1, torch.tensor(targets, device=logits.device).view(-1, 1)).sum()
        # the gradient with respect to the feature map only: no parameter's .grad is touched, so a model shared by
        # several threads (ferkit serve) can be explained concurrently
        (grad,) = torch.autograd.grad(score, features)
    a, g = features.detach().float(), grad.float()  # (B, C, h, w) each
    if method == "gradcam":
        weights = g.mean((2, 3), keepdim=True)  # (B, C, 1, 1)
    else:
        g2, g3 = g.pow(2), g.pow(3)
        denom = 2 * g2 + a.sum((2, 3), keepdim=True) * g3
        alpha = g2 / torch.where(denom != 0, denom, torch.ones_like(denom))
        weights = (alpha * F.relu(g)).sum((2, 3), keepdim=True)  # (B, C, 1, 1)
    cam = F.relu((weights * a).sum(1, keepdim=True))  # (B, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]  # (B, H, W)
    temperature = float(getattr(model, "temperature", 1.0))
    probs = torch.softmax(logits.detach().float() / temperature, 1).cpu().numpy()
    return CamResult(_unit(cam).cpu().numpy(), targets, probs, layer or "forward_features")


def _ensemble_cam(model: Ensemble, x: torch.Tensor, target, method: str) -> CamResult:
    """The members' heatmaps for the ensemble's classes, averaged (see the module's docstring)."""
    model.eval()
    with torch.no_grad():
        logits = model(x).float()  # (B, K)
    targets = _targets(target, logits)
    maps = [_in_ensemble_frame(model, i, grad_cam(member, model.member_input(x, i), targets, method).heatmaps)
            for i, member in enumerate(model.members)]  # fmt: skip
    mean = torch.from_numpy(np.mean(maps, axis=0))  # (B, H, W)
    probs = torch.softmax(logits / float(getattr(model, "temperature", 1.0)), 1).numpy()
    return CamResult(_unit(mean).numpy(), targets, probs, f"forward_features, mean of {len(maps)} members")


def _in_ensemble_frame(model: Ensemble, i: int, heatmaps: np.ndarray) -> np.ndarray:
    """Member i's heatmaps (B, s, s) on the ensemble's input pixels (B, S, S), scaled to [0, 1]."""
    resample = model.member_resample(i)  # (s, S) or None
    if resample is None:
        return heatmaps
    spread = resample.T.cpu().float() @ torch.from_numpy(heatmaps) @ resample.cpu().float()  # (B, S, S)
    return _unit(spread).numpy()


def _targets(target, logits: torch.Tensor) -> list[int]:
    n, k = logits.shape
    if target is None:
        return logits.argmax(1).tolist()
    targets = [target] * n if isinstance(target, int) else list(target)
    if len(targets) != n or not all(0 <= t < k for t in targets):
        raise ValueError(f"target must be a class index in 0..{k - 1} (one, or one per input), not {target!r}")
    return targets


def _unit(cam: torch.Tensor) -> torch.Tensor:
    """Each map scaled to [0, 1]; an all-zero map (nothing raised the score) stays zero."""
    flat = cam.flatten(1)
    low, high = flat.min(1).values.view(-1, 1, 1), flat.max(1).values.view(-1, 1, 1)
    span = high - low
    return torch.where(
        span > 0, (cam - low) / torch.where(span > 0, span, torch.ones_like(span)), torch.zeros_like(cam)
    )

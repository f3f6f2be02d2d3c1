"""What the layers compute: every convolution's feature maps for one input, the first layer's learned kernels,
per-layer activation statistics, and the grids that lay them out as pictures."""

from __future__ import annotations

import math

import numpy as np
import torch


def conv_layers(model: torch.nn.Module) -> list[tuple[str, torch.nn.Conv2d]]:
    return [(name, m) for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]


@torch.no_grad()
def feature_maps(model: torch.nn.Module, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Each convolution's output (before batch norm and ReLU) for one input x (1, C, H, W): name -> (C', h, w)."""
    if x.shape[0] != 1:
        raise ValueError(f"feature_maps takes one input (1, C, H, W), not a batch of {x.shape[0]}")
    model.eval()
    maps: dict[str, np.ndarray] = {}
    hooks = [
        module.register_forward_hook(lambda m, i, out, name=name: maps.__setitem__(name, out[0].float().cpu().numpy()))
        for name, module in conv_layers(model)
    ]
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
    return maps


def activation_stats(maps: dict[str, np.ndarray]) -> list[dict]:
    """Per layer: shape, mean, std, min, max, and the share of positive values (what a ReLU right after keeps)."""
    return [
        {
            "layer": name,
            "shape": list(a.shape),
            "mean": float(a.mean()),
            "std": float(a.std()),
            "min": float(a.min()),
            "max": float(a.max()),
            "positive": float((a > 0).mean()),
        }  # fmt: skip
        for name, a in maps.items()
    ]


def first_kernels(model: torch.nn.Module) -> np.ndarray:
    """The first convolution's weights (out, in, k, k)."""
    layers = conv_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no convolution")
    return layers[0][1].weight.detach().float().cpu().numpy()


def tile_grid(tiles: np.ndarray, columns: int | None = None, pad: int = 1, scale: int = 1,
              symmetric: bool = False) -> np.ndarray:  # fmt: skip
    """(N, h, w) maps -> one (rows*(h+pad)-pad, cols*(w+pad)-pad) float image in [0, 1], one tile per map, each
    scaled to its own range (`symmetric`: zero at 0.5, for kernels whose sign matters); pads are 1.0 (0.5 when
    symmetric, the colour of zero).
    `scale` repeats pixels so that small maps stay visible."""
    tiles = np.asarray(tiles, dtype=np.float32)
    if tiles.ndim != 3 or len(tiles) == 0:
        raise ValueError(f"tile_grid takes (N, h, w) maps, not {tiles.shape}")
    if scale > 1:
        tiles = tiles.repeat(scale, 1).repeat(scale, 2)
    n, h, w = tiles.shape
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), 0.5 if symmetric else 1.0, np.float32)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = _unit(tile, symmetric)
    return grid


def _unit(tile: np.ndarray, symmetric: bool) -> np.ndarray:
    if symmetric:
        bound = float(np.abs(tile).max())
        return 0.5 + 0.5 * tile / bound if bound > 0 else np.full_like(tile, 0.5)
    low, high = float(tile.min()), float(tile.max())
    return (tile - low) / (high - low) if high > low else np.zeros_like(tile)

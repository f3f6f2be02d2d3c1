"""A layer-by-layer table of a model: output shape, parameters, receptive field and multiply-adds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferkit.scratch.layers import BatchNorm2d, Conv2d, Flatten, Linear, Sequential, _Pool2d


@dataclass(frozen=True)
class LayerRow:
    name: str
    layer: str
    output_shape: tuple[int, ...]
    params: int
    receptive_field: tuple[int, int] | None  # input pixels one output value sees; None once flattened (all of them)
    macs: int  # multiply-adds per image


def _macs(layer, x_in: np.ndarray, y: np.ndarray) -> int:
    if isinstance(layer, Conv2d):
        kh, kw = layer.kernel_size
        return y[0].size * layer.in_channels * kh * kw
    if isinstance(layer, Linear):
        return layer.in_features * layer.out_features
    if isinstance(layer, BatchNorm2d):
        return y[0].size  # one multiply-add per value once folded into a scale and shift
    return 0  # activations and pooling compare or add but do not multiply-accumulate


def describe(layer) -> str:
    """A short name for a table: Conv2d(1→6, 5x5, s1, p2), MaxPool2d(2x2, s2), Linear(400→120)."""
    if isinstance(layer, Conv2d):
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
        stride = f", s{sh}" if sh == sw else f", s{sh}x{sw}"
        pad = "" if ph == pw == 0 else (f", p{ph}" if ph == pw else f", p{ph}x{pw}")
        return f"Conv2d({layer.in_channels}→{layer.out_channels}, {kh}x{kw}{stride if (sh, sw) != (1, 1) else ''}{pad})"
    if isinstance(layer, _Pool2d):
        (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
        return (
            f"{type(layer).__name__}({kh}x{kw}, s{sh})"
            if sh == sw
            else f"{type(layer).__name__}({kh}x{kw}, s{sh}x{sw})"
        )
    if isinstance(layer, Linear):
        return f"Linear({layer.in_features}→{layer.out_features})"
    if isinstance(layer, BatchNorm2d):
        return f"BatchNorm2d({layer.num_features})"
    return type(layer).__name__


def summarize(model: Sequential, input_shape: tuple[int, int, int]) -> list[LayerRow]:
    """Run one zero image of `input_shape` (C, H, W) through `model` (in eval mode) and describe every layer."""
    was_training = model.training
    model.eval()
    x = np.zeros((1, *input_shape))
    rf, jump = (1, 1), (1, 1)  # receptive field and distance between neighbouring outputs, in input pixels
    rows = []
    try:
        for name, layer in model.named_children():
            y = layer(x)
            if isinstance(layer, Conv2d | _Pool2d) and rf is not None:
                (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
                rf = (rf[0] + (kh - 1) * jump[0], rf[1] + (kw - 1) * jump[1])
                jump = (jump[0] * sh, jump[1] * sw)
            elif isinstance(layer, Flatten | Linear):
                rf = None
            params = sum(p.data.size for p in layer.parameters())
            rows.append(LayerRow(name, describe(layer), tuple(y.shape[1:]), params, rf, _macs(layer, x, y)))
            x = y
    finally:
        model.train(was_training)
    return rows


def format_summary(rows: list[LayerRow], input_shape: tuple[int, ...]) -> str:
    """The rows as an aligned text table with totals."""
    header = ("layer", "", "output", "params", "receptive field", "mult-adds")
    table = [("input", "", "x".join(map(str, input_shape)), "", "1x1", "")]
    for r in rows:
        field = "all" if r.receptive_field is None else f"{r.receptive_field[0]}x{r.receptive_field[1]}"
        table.append((r.name, r.layer, "x".join(map(str, r.output_shape)), f"{r.params:,}", field, f"{r.macs:,}"))
    table.append(("total", "", "", f"{sum(r.params for r in rows):,}", "", f"{sum(r.macs for r in rows):,}"))
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:  # names left-aligned, numbers right-aligned
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    lines = [line(row) for row in [header, *table]]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines)


def dense_params(input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> int:
    """Weights of a fully connected layer from every input value to every output unit (biases not counted)."""
    return int(np.prod(input_shape)) * int(np.prod(output_shape))

"""`ferkit shapes` for registered PyTorch models: one row per layer with output shape, parameters, receptive
field and multiply-adds, in the same table as the NumPy LeNets (ferkit.scratch.summary)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from ferkit.scratch.summary import LayerRow

ACTIVATIONS = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.SiLU, nn.LeakyReLU)


def _describe(m: nn.Module) -> str:
    if isinstance(m, nn.Conv2d):
        (kh, kw), (sh, _), (ph, _) = m.kernel_size, m.stride, m.padding
        stride, pad = f", s{sh}" if sh > 1 else "", f", p{ph}" if ph else ""
        return f"Conv2d({m.in_channels}→{m.out_channels}, {kh}x{kw}{stride}{pad})"
    if isinstance(m, nn.Linear):
        return f"Linear({m.in_features}→{m.out_features})"
    if isinstance(m, nn.BatchNorm2d):
        return f"BatchNorm2d({m.num_features})"
    if isinstance(m, nn.MaxPool2d | nn.AvgPool2d):
        return f"{type(m).__name__}({m.kernel_size})"
    return type(m).__name__


def _macs(m: nn.Module, out: torch.Tensor) -> int:
    if isinstance(m, nn.Conv2d):
        return out[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    if isinstance(m, nn.Linear):
        return m.in_features * m.out_features
    if isinstance(m, nn.BatchNorm2d):
        return out[0].numel()
    return 0


def _linearised(model: nn.Module) -> nn.Module:
    """A copy whose gradients reach every input pixel a unit depends on: activations become identities and max
    pooling becomes average pooling, so the gradient's support is the receptive field."""
    twin = copy.deepcopy(model).eval().double()
    for name, m in list(twin.named_modules()):
        parent = twin.get_submodule(name.rsplit(".", 1)[0]) if "." in name else twin
        leaf = name.rsplit(".", 1)[-1]
        if isinstance(m, (*ACTIVATIONS, nn.Dropout)):
            setattr(parent, leaf, nn.Identity())
        elif isinstance(m, nn.MaxPool2d):
            setattr(parent, leaf, nn.AvgPool2d(m.kernel_size, m.stride, m.padding))
    return twin


def summarize_torch(model: nn.Module, input_shape: tuple[int, int, int]) -> list[LayerRow]:
    leaves = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]
    outputs: dict[str, torch.Tensor] = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: outputs.setdefault(n, o)) for n, m in leaves]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for h in hooks:
        h.remove()
    model.train(was_training)
    fields = _receptive_fields(model, input_shape, [n for n, _ in leaves])
    rows = []
    for name, m in leaves:
        if name not in outputs:  # a layer the forward pass never used
            continue
        out = outputs[name]
        params = sum(p.numel() for p in m.parameters())
        rows.append(LayerRow(name, _describe(m), tuple(out.shape[1:]), params, fields.get(name), _macs(m, out)))
    rows.sort(key=lambda r: list(outputs).index(r.name))  # execution order
    return rows


def _receptive_fields(model: nn.Module, input_shape, names: list[str]) -> dict[str, tuple[int, int] | None]:
    twin = _linearised(model)
    x = torch.randn(1, *input_shape, dtype=torch.float64, requires_grad=True)
    outputs: dict[str, torch.Tensor] = {}
    hooks = [
        twin.get_submodule(n).register_forward_hook(lambda mod, i, o, n=n: outputs.setdefault(n, o)) for n in names
    ]
    twin(x)
    for h in hooks:
        h.remove()
    fields: dict[str, tuple[int, int] | None] = {}
    for name, out in outputs.items():
        if out.ndim != 4:
            fields[name] = None  # flattened: every unit sees the whole input
            continue
        (grad,) = torch.autograd.grad(out[0, 0, out.shape[2] // 2, out.shape[3] // 2], x, retain_graph=True)
        support = grad[0].abs().sum(0) > 0  # (H, W)
        rows, cols = support.any(1).nonzero(), support.any(0).nonzero()
        fields[name] = (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)) if len(rows) else None
    return fields

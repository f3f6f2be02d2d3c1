"""The model registry: `@register_model` on a factory, `create_model(name, ...)`, `list_models()`."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from torch import nn

from ferkit.errors import FerkitError

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register_model(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Register a factory `fn(num_classes=7, in_chans=1, **kw) -> FERModel` under its function name."""
    _REGISTRY[fn.__name__] = fn
    return fn


def accepts(name: str, argument: str) -> bool:
    """Whether a registered factory takes `argument` (the trainer passes input_size only to those that do)."""
    import inspect

    return name in _REGISTRY and argument in inspect.signature(_REGISTRY[name]).parameters


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def create_model(name: str, num_classes: int = 7, in_chans: int = 1, **kwargs) -> nn.Module:
    """Build a registered architecture; the arguments are remembered so a checkpoint can rebuild it."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise FerkitError(f"unknown model {name!r}{hint}; registered: {', '.join(list_models())}")
    try:
        model = _REGISTRY[name](num_classes=num_classes, in_chans=in_chans, **kwargs)
    except TypeError as exc:
        raise FerkitError(f"model {name!r} does not take these arguments: {exc}") from None
    model.arch = name
    model.arch_args = {"num_classes": num_classes, "in_chans": in_chans, **kwargs}
    return model

"""ferkit: facial expression recognition with convolutional neural networks."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# The public API, imported on first use so that `import ferkit` (and the CLI's start) stays fast.
_LAZY = {
    "FaceDataset": "ferkit.data",
    "load_dataset": "ferkit.data",
    "EMOTIONS": "ferkit.labels",
    "create_model": "ferkit.models",
    "list_models": "ferkit.models",
    "load_model": "ferkit.models",
    "register_model": "ferkit.models",
    "Analyzer": "ferkit.infer",
    "Face": "ferkit.infer",
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ferkit' has no attribute {name!r}")

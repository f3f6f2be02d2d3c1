"""CNN classifiers for faces: a registry of architectures and self-describing checkpoints."""

from ferkit.models import zoo  # noqa: F401  (registers the architectures)
from ferkit.models.base import FERModel
from ferkit.models.checkpoint import load_model, save_checkpoint
from ferkit.models.registry import create_model, list_models, register_model

__all__ = ["FERModel", "create_model", "list_models", "load_model", "register_model", "save_checkpoint"]

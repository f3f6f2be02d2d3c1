"""Reading expressions: the Analyzer (detect, align, classify) and its one result type, Face."""

from ferkit.infer.analyzer import Analyzer
from ferkit.infer.result import Face

__all__ = ["Analyzer", "Face"]

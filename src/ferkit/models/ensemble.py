"""Ensembles as models: several trained checkpoints behind one module that averages their probabilities.

An ensemble checkpoint is a folder whose `model.json` has `"arch": "ensemble"` and names its members (checkpoint
folders relative to it, or shipped model names); it holds no weights of its own. `load_model` returns an
`Ensemble`, which works wherever a single model does: its input is one preprocessed batch, standardised with the
ensemble's preprocessing (the first member's), and each member gets it re-standardised with its own mean and std.
Its output is the log of the members' averaged calibrated probabilities, so softmax(output) is the ensemble's
probability and the ensemble's own temperature (fitted on validation data as for any model) applies on top.
"""

from __future__ import annotations

import torch
from torch import nn

from ferkit.errors import FerkitError
from ferkit.preprocess import Preprocessing

ARCH = "ensemble"


class Ensemble(nn.Module):
    """Averages the calibrated probabilities of `members` (loaded models with .classes, .preprocessing and
    .temperature); forward returns log(mean probability), (B, K). Its input is standardised with `preprocessing`
    (default: the first member's), which must have the members' size, crop and channels."""

    def __init__(self, members: list[nn.Module], preprocessing: Preprocessing | None = None) -> None:
        super().__init__()
        if not members:
            raise FerkitError("an ensemble needs at least one member")
        first = members[0]
        preprocessing = preprocessing or first.preprocessing
        for m in members:
            if tuple(m.classes) != tuple(first.classes):
                raise FerkitError(f"ensemble members disagree on classes: {first.classes} vs {m.classes}")
            if input_geometry(m.preprocessing) != input_geometry(preprocessing):
                raise FerkitError(
                    "ensemble members must see the same input (size, crop, channels): "
                    f"{input_geometry(preprocessing)} vs {input_geometry(m.preprocessing)}"
                )
        self.members = nn.ModuleList(members)
        self.classes = tuple(first.classes)
        self.preprocessing: Preprocessing = preprocessing
        self.temperature = 1.0
        self.arch = ARCH
        self.register_buffer("member_temperatures", torch.tensor([float(m.temperature) for m in members]))
        scale, shift = zip(*(_restandardize(self.preprocessing, m.preprocessing) for m in members))
        self.register_buffer("input_scale", torch.tensor(scale))
        self.register_buffer("input_shift", torch.tensor(shift))

    def member_input(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """The ensemble's input x (B, C, S, S) standardised as member i expects it."""
        return x * self.input_scale[i] + self.input_shift[i]

    def member_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each member's raw logits (B, K) for the ensemble's input x."""
        return [m(self.member_input(x, i)) for i, m in enumerate(self.members)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.stack(self.member_logits(x)).float()  # (M, B, K)
        probs = torch.softmax(logits / self.member_temperatures.view(-1, 1, 1), 2).mean(0)  # (B, K)
        return torch.log(probs.clamp_min(1e-12))


def input_geometry(prep: Preprocessing) -> tuple[int, int, int]:
    """(size, input_size, channels): what a model's input looks like, whatever its standardisation."""
    return prep.size, prep.input_size, prep.channels


def _restandardize(ours: Preprocessing, theirs: Preprocessing) -> tuple[float, float]:
    """(a, b) with a * x + b mapping an input standardised with `ours` to one standardised with `theirs`."""
    return ours.std / theirs.std, (ours.mean - theirs.mean) / theirs.std

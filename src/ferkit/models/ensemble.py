"""Ensembles as models: several trained checkpoints behind one module that averages their probabilities.

An ensemble checkpoint is a folder whose `model.json` has `"arch": "ensemble"` and names its members (checkpoint
folders relative to it, or shipped model names); it holds no weights of its own. `load_model` returns an `Ensemble`,
which works wherever a single model does: its input is one preprocessed batch, standardised with the ensemble's
preprocessing (the first member's, when all take the same input), and each member gets it re-standardised with its
own mean and std. Its output is the log of the members' averaged calibrated probabilities, so softmax(output) is the
ensemble's probability and the ensemble's own temperature (fitted on validation data as for any model) applies on
top.

Members may take inputs of different sizes (a 40-pixel crop of a 48-pixel face beside a 54-pixel crop of a
64-pixel one) as long as they frame the face alike (crop / size within 2.5%). The ensemble's input is then the
smallest member's (size, crop), and each other member gets it resized to its own side: one fixed matrix per member,
x -> M x M^T, equal to PyTorch's antialiased bilinear resize and a plain MatMul in the exported ONNX graph. A
resize, not a crop, because TTA's views are defined on that framing: multiscale's zoom of the ensemble's input is
then the same zoom of every member's view, as it would be for the member alone.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from ferkit.errors import FerkitError
from ferkit.preprocess import Preprocessing

ARCH = "ensemble"
FRAMING_TOLERANCE = 0.025  # 40 of 48 (0.833) beside 54 of 64 (0.844): 1.3%, half a pixel of a 40-pixel input


class Ensemble(nn.Module):
    """Averages the calibrated probabilities of `members` (loaded models with .classes, .preprocessing and
    .temperature); forward returns log(mean probability), (B, K). Its input is standardised with `preprocessing`
    (default: ensemble_preprocessing(members)), which must have the members' channels and framing (crop / size);
    a member whose input side differs gets the input resized."""

    def __init__(self, members: list[nn.Module], preprocessing: Preprocessing | None = None) -> None:
        super().__init__()
        if not members:
            raise FerkitError("an ensemble needs at least one member")
        first = members[0]
        preprocessing = preprocessing or ensemble_preprocessing(members)
        for m in members:
            if tuple(m.classes) != tuple(first.classes):
                raise FerkitError(f"ensemble members disagree on classes: {first.classes} vs {m.classes}")
            _check_input(preprocessing, m.preprocessing)
        self.members = nn.ModuleList(members)
        self.classes = tuple(first.classes)
        self.preprocessing: Preprocessing = preprocessing
        self.temperature = 1.0
        self.arch = ARCH
        self.register_buffer("member_temperatures", torch.tensor([float(m.temperature) for m in members]))
        scale, shift = zip(*(_restandardize(self.preprocessing, m.preprocessing) for m in members))
        self.register_buffer("input_scale", torch.tensor(scale))
        self.register_buffer("input_shift", torch.tensor(shift))
        for i, m in enumerate(members):  # None (not in the state dict) for a member that takes the ensemble's input
            self.register_buffer(f"resample_{i}", resample_matrix(self.preprocessing, m.preprocessing))

    def member_resample(self, i: int) -> torch.Tensor | None:
        """M (s, S) taking the ensemble's input to member i's (x -> M @ x @ M.T), or None where it is the same."""
        return getattr(self, f"resample_{i}")

    def member_input(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """The ensemble's input x (B, C, S, S) resized and standardised as member i expects it."""
        resample = self.member_resample(i)  # (s, S) or None
        if resample is not None:
            x = resample @ x @ resample.T  # (s, S) @ (B, C, S, S) @ (S, s) -> (B, C, s, s)
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


def ensemble_preprocessing(members: list[nn.Module]) -> Preprocessing:
    """The first member's preprocessing with the size and crop of the member that takes the smallest input: the
    larger members get it upsampled once. (Their own preprocessing upsamples FER2013's 48-pixel faces too; the other
    way, a large input downsampled for the small members, blurred their views: a 48-wide member lost 2.2 points with
    multiscale TTA, the four-member ensemble 1.2, docs/experiments.md run 81.)"""
    first = members[0].preprocessing
    smallest = min((m.preprocessing for m in members), key=lambda p: p.input_size)
    return replace(first, size=smallest.size, crop=smallest.crop)


def resample_matrix(ours: Preprocessing, theirs: Preprocessing) -> torch.Tensor | None:
    """M (their input side, our input side) with M @ x @ M.T = resize(x, their input side) for our input x; None
    when they take our input as it is."""
    if ours.input_size == theirs.input_size:
        return None
    side, out = ours.input_size, theirs.input_size
    impulses = torch.eye(side).view(side, 1, side, 1).expand(-1, -1, -1, side)  # (S, 1, S, S): image i lights row i
    # the resize of ferkit.preprocess.resize (bilinear, antialiased, separable) along the rows only; the images keep
    # their width because PyTorch's antialiased kernel returns wrong rows for one-pixel-wide images (torch 2.13)
    rows = F.interpolate(impulses, size=(out, side), mode="bilinear", align_corners=False, antialias=True)
    return rows[:, 0, :, 0].T.contiguous()  # (s, S): output row j is sum_i M[j, i] * input row i


def framing(prep: Preprocessing) -> float:
    """The share of the face's side a model sees: crop / size."""
    return prep.input_size / prep.size


def _check_input(ours: Preprocessing, theirs: Preprocessing) -> None:
    """A member must take our channels and frame the face as we do (then our input, resized, is its own)."""
    if ours.channels != theirs.channels:
        raise FerkitError(f"ensemble members must take the same channels: {ours.channels} vs {theirs.channels}")
    if abs(framing(theirs) / framing(ours) - 1) > FRAMING_TOLERANCE:
        raise FerkitError(
            f"a member sees {theirs.input_size}x{theirs.input_size} crops of {theirs.size}-pixel faces "
            f"({framing(theirs):.3f} of the face's side), the ensemble {ours.input_size}x{ours.input_size} crops "
            f"of {ours.size}-pixel faces ({framing(ours):.3f}): members of an ensemble must frame the face alike "
            f"(within {FRAMING_TOLERANCE:.1%}), as each gets the ensemble's input resized to its own side"
        )


def _restandardize(ours: Preprocessing, theirs: Preprocessing) -> tuple[float, float]:
    """(a, b) with a * x + b mapping an input standardised with `ours` to one standardised with `theirs`."""
    return ours.std / theirs.std, (ours.mean - theirs.mean) / theirs.std

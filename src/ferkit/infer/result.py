"""The one result type: a face with its box, landmarks, detector score and expression probabilities.
CLI, Python API and (later) HTTP all emit `Face.to_dict()`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x, y, width, height in the image's pixels
    score: float  # the detector's confidence
    landmarks: list[list[float]] | None  # 5 x [x, y]: left eye, right eye, nose, mouth left, mouth right
    probs: dict[str, float]  # expression -> probability (calibrated), summing to 1
    label: str  # the most probable expression
    track: int | None = None  # a face track id in video, None for photos

    def to_dict(self) -> dict:
        return {
            "box": [round(v, 1) for v in self.box],
            "score": round(self.score, 4),
            "landmarks": None if self.landmarks is None else [[round(v, 1) for v in p] for p in self.landmarks],
            "probs": {k: round(v, 4) for k, v in self.probs.items()},
            "label": self.label,
            "track": self.track,
        }

"""Annotated pictures: each face's box, its label and a bar per expression."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.infer.result import Face

COLOURS = {  # RGB, one per expression, so the bars read at a glance
    "angry": (220, 50, 47), "disgust": (133, 153, 0), "fear": (108, 113, 196), "happy": (255, 193, 7),
    "sad": (38, 139, 210), "surprise": (211, 54, 130), "neutral": (147, 161, 161), "contempt": (203, 75, 22),
}  # fmt: skip


def draw_faces(rgb: np.ndarray, faces: list[Face]) -> np.ndarray:
    """A copy of the (H, W, 3) image with every face's box, label and probability bars drawn on it."""
    out = rgb.copy()
    scale = max(out.shape[:2]) / 640  # text and lines grow with the picture
    thick, font = max(1, round(2 * scale)), 0.45 * max(scale, 0.6)
    for face in faces:
        x, y, w, h = (round(v) for v in face.box)
        colour = COLOURS.get(face.label, (255, 255, 255))
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, thick)
        text = f"{face.label} {face.probs[face.label]:.0%}"
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font, thick)
        top = max(y - th - 6, 0)
        cv2.rectangle(out, (x, top), (x + tw + 4, top + th + 6), colour, -1)
        cv2.putText(out, text, (x + 2, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), thick, cv2.LINE_AA)
        _bars(out, face, x + w + 4, y, max(40, h), scale)
        if face.landmarks is not None:
            for px, py in face.landmarks:
                cv2.circle(out, (round(px), round(py)), max(1, thick), (0, 255, 0), -1)
    return out


def _bars(out: np.ndarray, face: Face, left: int, top: int, height: int, scale: float) -> None:
    """One horizontal bar per class, length proportional to its probability, beside the face."""
    names = list(face.probs)
    row = max(4, height // len(names))
    width = round(60 * max(scale, 0.6))
    text_scale = (row - 3) / 22  # Hershey simplex glyphs are about 22 px tall at scale 1
    for i, name in enumerate(names):
        y = top + i * row
        colour = COLOURS.get(name, (255, 255, 255))
        cv2.rectangle(out, (left, y), (left + width, y + row - 2), (40, 40, 40), -1)
        cv2.rectangle(out, (left, y), (left + round(width * face.probs[name]), y + row - 2), colour, -1)
        if row >= 9:  # room for the class name inside its bar
            cv2.putText(out, name[:3], (left + 2, y + row - 4), cv2.FONT_HERSHEY_SIMPLEX, text_scale, (255, 255, 255),
                        1, cv2.LINE_AA)  # fmt: skip

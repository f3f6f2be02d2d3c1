"""Face alignment: rotate so the eyes are level, cut a square around the face with a margin, scale it down.

The crop goes on to the model through the one shared preprocessing (ferkit.preprocess), which converts colour to
gray and resizes exactly as in training.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ferkit.faces.detect import Detection

MARGIN = 0.1  # of the face box's side, added on each side: FER2013's faces are cropped close


def alignment(face: Detection, margin: float = MARGIN) -> tuple[np.ndarray, float]:
    """The (2, 3) affine map from image pixels to the aligned crop's pixels, and the crop's side in image pixels.
    The eyes end up level when the detection has landmarks."""
    x, y, w, h = face.box
    centre = (x + w / 2, y + h / 2)
    angle = 0.0
    if face.landmarks is not None:
        (lx, ly), (rx, ry) = face.landmarks[0], face.landmarks[1]
        angle = math.degrees(math.atan2(ry - ly, rx - lx))  # the tilt of the line through the eyes
    side = max(w, h) * (1 + 2 * margin)
    # One affine map: rotate about the face centre, then move that centre to the middle of a side x side crop.
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[:, 2] += (side / 2 - centre[0], side / 2 - centre[1])
    return matrix, side


def align(rgb: np.ndarray, face: Detection, size: int = 48, margin: float = MARGIN) -> np.ndarray:
    """(size, size, 3) uint8 crop of `face`; eyes levelled when the detection has landmarks."""
    matrix, side = alignment(face, margin)
    crop = cv2.warpAffine(rgb, matrix, (max(1, round(side)), max(1, round(side))), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)

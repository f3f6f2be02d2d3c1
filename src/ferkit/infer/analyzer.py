"""`Analyzer`: image in, faces with expression probabilities out. Detection, alignment, the shared
preprocessing and the model's calibrated probabilities, in that order."""

from __future__ import annotations

import numpy as np
import torch

from ferkit.faces import create_detector
from ferkit.faces.align import align
from ferkit.infer.images import shrink_to, to_rgb
from ferkit.infer.result import Face
from ferkit.infer.video import analyze_video
from ferkit.models import load_model
from ferkit.models.predict import predict_proba
from ferkit.models.runtime import forward_for

# Detection runs on a copy no larger than this (longest side); boxes are scaled back to the original.
DETECT_MAX_SIDE = 1280


class Analyzer:
    def __init__(self, model="default", detector: str = "mtcnn", min_face: int = 20, tta: str = "none",
                 device: str = "cpu", batch: int = 64, threads: int | None = None,
                 min_score: float | None = None, runtime: str = "auto") -> None:  # fmt: skip
        """`model`: a shipped name, a checkpoint folder, or a model already loaded (shared, not copied).
        `threads`: CPU threads for the detector (default: its library's choice). `min_score`: detections scoring
        less are dropped (default: the detector's, 0.95 for MTCNN). `runtime`: what computes the classifier's
        logits, "auto" (onnxruntime on a CPU, same logits within 1e-4, else PyTorch), "onnx" or "torch"."""
        self.model = model if isinstance(model, torch.nn.Module) else load_model(model, device)
        self.model_name = getattr(model, "name", None) if isinstance(model, torch.nn.Module) else str(model)
        options = {} if threads is None else {"threads": threads}
        self.detector = create_detector(detector, min_face=min_face, **options)
        self.min_score = self.detector.default_min_score if min_score is None else float(min_score)
        self.tta, self.batch = tta, batch
        self.forward = forward_for(self.model, runtime)
        self._settings = {"detector": detector, "min_face": min_face, "tta": tta, "batch": batch, "threads": threads,
                          "min_score": min_score, "runtime": runtime}  # fmt: skip

    def replica(self) -> Analyzer:
        """Another Analyzer with its own detector but this one's model (read-only at inference, so sharing it
        across threads is safe): one per worker thread, the weights in memory once."""
        twin = Analyzer(self.model, **self._settings)
        twin.model_name = self.model_name
        return twin

    def detect(self, rgb: np.ndarray, min_score: float | None = None):
        """Detections scoring at least `min_score` (default: the Analyzer's), in the original image's pixels;
        huge images are searched at a reduced size."""
        threshold = self.min_score if min_score is None else min_score
        small, scale = shrink_to(rgb, DETECT_MAX_SIDE)
        found = [d for d in self.detector(small) if d.score >= threshold]
        if scale != 1.0:
            for d in found:
                d.box = tuple(v / scale for v in d.box)
                d.landmarks = None if d.landmarks is None else d.landmarks / scale
        return found

    def analyze(self, image, min_score: float | None = None) -> list[Face]:
        """Every face in `image` (an array, a path or a PIL image), most confident detection first."""
        rgb = to_rgb(image)
        return self.classify(rgb, self.detect(rgb, min_score))

    def classify(self, rgb: np.ndarray, detections) -> list[Face]:
        """Faces for detections already made on `rgb` (or on a recent video frame): align, then the model."""
        if not detections:
            return []
        crops = np.stack([align(rgb, d, self.model.preprocessing.size) for d in detections])  # (N, S, S, 3)
        probs = predict_proba(self.model, crops, batch_size=self.batch, tta=self.tta, forward=self.forward)  # (N, K)
        classes = self.model.classes
        return [
            Face(
                d.box,
                d.score,
                None if d.landmarks is None else d.landmarks.tolist(),
                {c: float(p) for c, p in zip(classes, row)},
                classes[int(row.argmax())],
            )  # fmt: skip
            for d, row in zip(detections, probs)
        ]

    def analyze_video(self, source, stride: int = 1, smooth: float = 0.0, save=None, detect_every: int = 1):
        """Iterator of FrameResult(frame, time, faces) for a video file or a webcam index (see ferkit.infer.video)."""
        return analyze_video(self, source, stride, smooth, save, detect_every)

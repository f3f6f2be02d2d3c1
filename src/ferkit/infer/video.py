"""Video files and webcams: frames decoded one at a time (memory stays flat however long the video), every
n-th frame analysed, faces tracked, optional smoothing, an annotated copy at the source frame rate, and a
per-track timeline of probabilities (CSV and plot)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ferkit.errors import FerkitError
from ferkit.fileio import atomic_path
from ferkit.infer.draw import draw_faces
from ferkit.infer.result import Face
from ferkit.infer.track import IoUTracker

if TYPE_CHECKING:  # video takes any Analyzer-like object; the Analyzer itself imports this module
    from ferkit.infer.analyzer import Analyzer


@dataclass
class FrameResult:
    frame: int
    time: float
    faces: list[Face] = field(default_factory=list)


def open_capture(source: str | int) -> tuple[cv2.VideoCapture, float]:
    """An opened capture and its frame rate (25 when the container does not say)."""
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise FerkitError(f"{source}: cannot open as a video or camera")
    fps = capture.get(cv2.CAP_PROP_FPS)
    return capture, fps if fps and fps > 0 else 25.0


def _frame_rate(source: str | int) -> float:
    capture, fps = open_capture(source)
    capture.release()
    return fps


def frames(source: str | int) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, seconds, RGB frame) for every decoded frame, one at a time."""
    capture, fps = open_capture(source)
    try:
        index = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            yield index, index / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()


def analyze_video(analyzer: Analyzer, source: str | int, stride: int = 1, smooth: float = 0.0,
                  save: Path | None = None, detect_every: int = 1) -> Iterator[FrameResult]:  # fmt: skip
    """Analyse every `stride`-th frame; `smooth` in [0, 1) blends each track's probabilities with its previous
    ones (exponential moving average). With `save`, every frame goes to an annotated video at the source rate.

    `detect_every` n > 1 runs the face detector on every n-th analysed frame only and classifies the faces at
    the boxes found last in between: the detector costs far more than the classifier, and faces move little in
    a few frames, so this trades box lag for frame rate."""
    for name, value in (("--stride", stride), ("--detect-every", detect_every)):
        if value < 1:
            raise FerkitError(f"{name} must be 1 or more, not {value}")
    tracker, previous = IoUTracker(max_missed=max(2, 5 // stride)), {}
    fps = _frame_rate(source) if save else 25.0
    writer, last_faces, finished, detections, analysed = None, [], False, [], 0
    try:
        for index, seconds, rgb in frames(source):
            if index % stride == 0:
                if analysed % detect_every == 0:
                    detections = analyzer.detect(rgb)
                analysed += 1
                last_faces = tracker.update(analyzer.classify(rgb, detections))
                if smooth:
                    for face in last_faces:
                        face.probs = _smoothed(face, previous.get(face.track), smooth)
                        face.label = max(face.probs, key=face.probs.get)
                        previous[face.track] = face.probs
                yield FrameResult(index, round(seconds, 3), last_faces)
            if save is not None:
                writer = writer or _video_writer(save, fps, rgb.shape)
                writer.write(cv2.cvtColor(draw_faces(rgb, last_faces), cv2.COLOR_RGB2BGR))
        finished = True
    finally:
        if writer is not None:
            writer.release()
            if finished:  # the annotated video appears only once complete
                partial_path(save).replace(save)
            else:
                partial_path(save).unlink(missing_ok=True)


def _smoothed(face: Face, before: dict | None, smooth: float) -> dict:
    if before is None:
        return face.probs
    return {k: smooth * before[k] + (1 - smooth) * v for k, v in face.probs.items()}


def partial_path(path: Path) -> Path:
    """Where a video is written until it is complete (same folder and suffix, so OpenCV picks the container)."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def _video_writer(path: Path, fps: float, shape: tuple) -> cv2.VideoWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(partial_path(path)), cv2.VideoWriter_fourcc(*"mp4v"), fps, (shape[1], shape[0]))
    if not writer.isOpened():
        raise FerkitError(f"{path}: cannot write a video here")
    return writer


class Timeline:
    """A per-track timeline written as results arrive: CSV rows streamed to disk (renamed into place on close),
    and only compact float32 rows kept for the plot, so an hour of frames costs megabytes, not gigabytes."""

    def __init__(self, csv_path: Path, png_path: Path | None = None) -> None:
        self.csv_path, self.png_path = Path(csv_path), png_path
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.csv_path.with_name(f".{self.csv_path.name}.partial")
        self._file, self._csv, self.classes = None, None, []
        self._rows: list[np.ndarray] = []  # (2 + K,) float32: time, track, probabilities

    def add(self, result: FrameResult) -> None:
        for face in result.faces:
            if self._file is None:
                self.classes = list(face.probs)
                self._file = open(self._tmp, "w", newline="")  # noqa: SIM115 (open across add() calls)
                self._csv = csv.writer(self._file, lineterminator="\n")
                self._csv.writerow(["frame", "time", "track", "label", *self.classes])
            probs = [face.probs[c] for c in self.classes]
            self._csv.writerow([result.frame, result.time, face.track, face.label, *(round(p, 4) for p in probs)])
            self._rows.append(np.array([result.time, face.track, *probs], dtype=np.float32))

    def close(self) -> None:
        """Finish the CSV and draw the plot; nothing is written when no face was ever seen."""
        if self._file is None:
            return
        self._file.close()
        self._tmp.replace(self.csv_path)
        if self.png_path is not None:
            _plot_timeline(np.stack(self._rows), self.classes, self.png_path)


def _plot_timeline(rows: np.ndarray, classes: list[str], path: Path) -> None:
    """rows (N, 2 + K): time, track, then one probability per class; written as a PNG."""
    import matplotlib.pyplot as plt

    fig = timeline_figure(rows, classes)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def timeline_figure(rows: np.ndarray, classes: list[str]):
    """A matplotlib figure, one panel per track, each class's probability over time; rows (N, 2 + K) hold time,
    track, then one probability per class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ferkit.infer.draw import COLOURS

    tracks = np.unique(rows[:, 1]).astype(int)
    fig, axes = plt.subplots(len(tracks), 1, figsize=(10, 2.2 * len(tracks)), squeeze=False, sharex=True)
    for ax, track in zip(axes[:, 0], tracks):
        mine = rows[rows[:, 1] == track]  # (n, 2 + K)
        for k, c in enumerate(classes):
            ax.plot(mine[:, 0], mine[:, 2 + k], label=c, color=np.array(COLOURS.get(c, (0, 0, 0))) / 255)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"track {track}")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(ncol=len(classes), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1.35))
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    return fig

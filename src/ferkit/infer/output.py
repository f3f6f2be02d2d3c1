"""Writing results: one JSON object per image on stdout (and optionally a file), one CSV row per face."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ferkit.fileio import atomic_path
from ferkit.infer.result import Face


class ResultWriter:
    """JSON Lines {"source", "frame", "time", "faces", "error"} per image; files appear complete or not at all."""

    def __init__(self, json_path: Path | None, csv_path: Path | None, classes: tuple[str, ...]) -> None:
        self.json_path, self.csv_path, self.classes = json_path, csv_path, classes
        self._stack = []

    def __enter__(self) -> ResultWriter:
        self._json = self._open(self.json_path)
        self._csv_file = self._open(self.csv_path)
        if self._csv_file:
            self._csv = csv.writer(self._csv_file, lineterminator="\n")
            self._csv.writerow(["source", "frame", "face", "x", "y", "w", "h", "score", "label", *self.classes])
        return self

    def _open(self, path: Path | None):
        if path is None:
            return None
        ctx = atomic_path(path)
        tmp = ctx.__enter__()
        self._stack.append(ctx)
        return open(tmp, "w", newline="", encoding="utf-8")

    def write(self, source: str, faces: list[Face], error: str | None, frame: int | None = None,
              time: float | None = None) -> None:  # fmt: skip
        line = json.dumps({"source": source, "frame": frame, "time": time, "faces": [f.to_dict() for f in faces],
                           "error": error})  # fmt: skip
        print(line, flush=True)
        if self._json:
            self._json.write(line + "\n")
        if self._csv_file:
            for i, f in enumerate(faces):
                self._csv.writerow([source, frame, i, *(round(v, 1) for v in f.box), round(f.score, 4), f.label,
                                    *(round(f.probs[c], 4) for c in self.classes)])  # fmt: skip

    def __exit__(self, *exc) -> None:
        for handle in (self._json, self._csv_file):
            if handle:
                handle.close()
        for ctx in reversed(self._stack):
            ctx.__exit__(*exc)

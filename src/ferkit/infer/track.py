"""Face tracks across video frames: greedy IoU matching gives each face a stable id while it stays in view."""

from __future__ import annotations

from ferkit.infer.result import Face


def iou(a: tuple, b: tuple) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class IoUTracker:
    """Match each frame's faces to the tracks of recent frames by box overlap; unmatched faces start new tracks.

    A track survives `max_missed` analysed frames without a match (a blink of the detector), then ends.
    """

    def __init__(self, min_iou: float = 0.3, max_missed: int = 5) -> None:
        self.min_iou, self.max_missed = min_iou, max_missed
        self.tracks: dict[int, tuple] = {}  # id -> last box
        self.missed: dict[int, int] = {}
        self.next_id = 0

    def update(self, faces: list[Face]) -> list[Face]:
        """Set `face.track` on every face of this frame; returns the faces."""
        pairs = sorted(((iou(f.box, box), i, t) for i, f in enumerate(faces) for t, box in self.tracks.items()),
                       reverse=True)  # fmt: skip
        used_faces, used_tracks = set(), set()
        for overlap, i, t in pairs:
            if overlap >= self.min_iou and i not in used_faces and t not in used_tracks:
                faces[i].track = t
                used_faces.add(i)
                used_tracks.add(t)
        for i, face in enumerate(faces):
            if i not in used_faces:
                face.track = self.next_id
                self.next_id += 1
        for t in list(self.tracks):
            self.missed[t] = 0 if t in used_tracks else self.missed.get(t, 0) + 1
            if self.missed[t] > self.max_missed:
                del self.tracks[t], self.missed[t]
        for face in faces:
            self.tracks[face.track] = face.box
            self.missed.setdefault(face.track, 0)
        return faces

"""`ferkit report`: a predict job's records as one self-contained HTML page a person can look at.

Everything is inside the one file (pictures as data: URIs, styles inline, no script, no CDN), so it opens offline
and can be mailed. It shows the overall label distribution, each source with its faces and its label distribution,
every video's timeline of each tracked face's probabilities, and the failures with their errors.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ferkit.errors import FerkitError
from ferkit.fileio import atomic_write_text
from ferkit.infer.draw import COLOURS

THUMB_SIDE = 320  # pixels: a photo's annotated thumbnail


@dataclass
class SourceSummary:
    source: str
    video: bool = False
    frames: int = 0  # analysed frames (videos)
    faces: list[dict] = field(default_factory=list)  # a photo's faces
    labels: Counter = field(default_factory=Counter)  # label -> faces (a video: face-frames)
    tracks: dict = field(default_factory=lambda: defaultdict(list))  # track -> [(time, probs)]
    error: str | None = None


def read_records(path: str | Path) -> list[dict]:
    """The JSON Lines of `ferkit predict --json`; a line that is not a record is an error naming it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FerkitError(f"{path}: cannot read ({exc.strerror or exc})") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise FerkitError(f"{path}:{number}: not a JSON line") from None
        if not isinstance(record, dict) or not {"source", "faces"} <= set(record):
            raise FerkitError(f"{path}:{number}: not a ferkit predict record (needs source and faces)")
        records.append(record)
    return records


def summarize(records: list[dict]) -> list[SourceSummary]:
    """One summary per source, in the order sources first appear."""
    by_source: dict[str, SourceSummary] = {}
    for r in records:
        s = by_source.setdefault(r["source"], SourceSummary(r["source"]))
        if r.get("error"):
            s.error = r["error"]
        if r.get("frame") is not None:
            s.video, s.frames = True, s.frames + 1
            for face in r["faces"]:
                s.tracks[face.get("track")].append((r.get("time") or 0.0, face["probs"]))
        else:
            s.faces = r["faces"]
        s.labels.update(face["label"] for face in r["faces"])
    return list(by_source.values())


def write_report(records_path: str | Path, out: str | Path, thumbnails: int = 200) -> Path:
    """Write `out`/index.html for the records in `records_path`; at most `thumbnails` photos get a picture."""
    summaries = summarize(read_records(records_path))
    out = Path(out)
    classes = _classes(summaries)
    total = Counter()
    for s in summaries:
        total.update(s.labels)
    failures = [s for s in summaries if s.error]
    photos = [s for s in summaries if not s.video]
    videos = [s for s in summaries if s.video]
    body = [
        f"<h1>ferkit report</h1><p>{html.escape(str(records_path))}: {_count(len(summaries), 'source')} "
        f"({_count(len(photos), 'photo')}, {_count(len(videos), 'video')}), {_count(sum(total.values()), 'face')}"
        f"{' (face-frames in videos)' if videos else ''}, {len(failures)} failed.</p>",
        "<h2>Labels over everything</h2>",
        _img(_distribution_png(total, classes), "label distribution") if total else "<p>No face was found.</p>",
        _photo_section(photos, classes, thumbnails),
        _video_section(videos, classes),
        _failure_section(failures),
    ]
    page = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>ferkit report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>")  # fmt: skip
    atomic_write_text(out / "index.html", page)
    return out / "index.html"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _classes(summaries: list[SourceSummary]) -> list[str]:
    for s in summaries:
        for face in s.faces:
            return list(face["probs"])
        for points in s.tracks.values():
            return list(points[0][1])
    return list(COLOURS)[:7]


def _bar(labels: Counter, classes: list[str]) -> str:
    """A stacked bar of a source's labels, in CSS (no picture needed)."""
    n = sum(labels.values())
    if not n:
        return "<span class=muted>no face</span>"
    parts = "".join(
        f'<span style="width:{100 * labels[c] / n:.1f}%;background:rgb{COLOURS.get(c, (0, 0, 0))}" '
        f'title="{c}: {labels[c]}"></span>'
        for c in classes if labels[c]
    )  # fmt: skip
    top = ", ".join(f"{c} {labels[c]}" for c, _ in labels.most_common(3))
    return f"<span class=bar>{parts}</span> {html.escape(top)}"


def _photo_section(photos: list[SourceSummary], classes: list[str], thumbnails: int) -> str:
    if not photos:
        return ""
    rows, cards = [], []
    for i, s in enumerate(photos):
        faces = ", ".join(f"{f['label']} {f['probs'][f['label']]:.0%}" for f in s.faces) or "—"
        rows.append(f"<tr><td>{html.escape(s.source)}</td><td>{len(s.faces)}</td><td>{html.escape(faces)}</td>"
                    f"<td>{_bar(s.labels, classes)}</td></tr>")  # fmt: skip
        if i < thumbnails and not s.error:
            picture = _thumbnail(s)
            if picture:
                cards.append(f"<figure>{_img(picture, s.source, 'jpeg')}<figcaption>{html.escape(Path(s.source).name)}"
                             f"</figcaption></figure>")  # fmt: skip
    more = f"<p class=muted>Pictures of the first {thumbnails} photos only.</p>" if len(photos) > thumbnails else ""
    return ("<h2>Photos</h2><table><tr><th>source</th><th>faces</th><th>expressions</th><th>labels</th></tr>"
            f"{''.join(rows)}</table><div class=grid>{''.join(cards)}</div>{more}")  # fmt: skip


def _video_section(videos: list[SourceSummary], classes: list[str]) -> str:
    if not videos:
        return ""
    parts = ["<h2>Videos</h2>"]
    for s in videos:
        parts.append(f"<h3>{html.escape(s.source)}</h3><p>{s.frames} frames analysed, {len(s.tracks)} face "
                     f"track(s); labels: {_bar(s.labels, classes)}</p>")  # fmt: skip
        if s.tracks:
            parts.append(_img(_timeline_png(s, classes), f"timeline of {s.source}"))
    return "".join(parts)


def _failure_section(failures: list[SourceSummary]) -> str:
    if not failures:
        return "<h2>Failures</h2><p>None.</p>"
    items = "".join(f"<li><b>{html.escape(s.source)}</b>: {html.escape(s.error)}</li>" for s in failures)
    return f"<h2>Failures</h2><ul class=failures>{items}</ul>"


def _timeline_png(s: SourceSummary, classes: list[str]) -> bytes:
    from ferkit.infer.video import timeline_figure

    rows = np.array([[t, -1 if track is None else track, *(p[c] for c in classes)]
                     for track, points in s.tracks.items() for t, p in points], dtype=np.float32)  # fmt: skip
    return _png(timeline_figure(rows, classes))


def _distribution_png(total: Counter, classes: list[str]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    counts = [total[c] for c in classes]
    ax.bar(classes, counts, color=[np.array(COLOURS.get(c, (0, 0, 0))) / 255 for c in classes])
    for x, n in enumerate(counts):
        ax.text(x, n, str(n), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("faces")
    fig.tight_layout()
    return _png(fig)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _thumbnail(s: SourceSummary) -> bytes | None:
    """The photo with its faces drawn, at most THUMB_SIDE pixels a side, as JPEG; None if it cannot be read now."""
    import cv2

    from ferkit.infer.draw import draw_faces
    from ferkit.infer.images import shrink_to, to_rgb
    from ferkit.infer.result import Face

    try:
        rgb = to_rgb(s.source)
    except (FerkitError, OSError):
        return None
    faces = [Face(tuple(f["box"]), f["score"], f["landmarks"], f["probs"], f["label"], f.get("track")) for f in s.faces]
    small, _ = shrink_to(draw_faces(rgb, faces), THUMB_SIDE)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return jpeg.tobytes() if ok else None


def _img(data: bytes, alt: str, kind: str = "png") -> str:
    return f'<img src="data:image/{kind};base64,{base64.b64encode(data).decode()}" alt="{html.escape(alt)}">'


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: 4px 6px;
text-align: left; vertical-align: top; } .muted { color: #888; }
.bar { display: inline-flex; width: 160px; height: 10px; background: #eee; vertical-align: middle; }
.bar span { display: block; height: 100%; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 1em; } figure { margin: 0; }
figcaption { font-size: 12px; color: #555; } img { max-width: 100%; } .failures li { color: #a00; }
"""

"""`ferkit report`: a job's records as one self-contained HTML page."""

import json
import re
from pathlib import Path

import pytest

from ferkit.errors import FerkitError
from ferkit.infer.report import read_records, summarize, write_report
from tests.test_cli import ferkit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/astronaut.jpg"
PROBS = {"angry": 0.1, "disgust": 0.0, "fear": 0.0, "happy": 0.7, "sad": 0.1, "surprise": 0.0, "neutral": 0.1}


def face(track=None, label="happy"):
    return {"box": [180, 60, 88, 112], "score": 1.0, "landmarks": None, "probs": PROBS, "label": label,
            "track": track}  # fmt: skip


def records() -> list[dict]:
    photo = {"source": str(EXAMPLE), "frame": None, "time": None, "faces": [face()], "error": None}
    frames = [{"source": "clip.mp4", "frame": i, "time": i / 10, "faces": [face(0), face(1, "sad")], "error": None}
              for i in range(5)]  # fmt: skip
    bad = {"source": "broken.jpg", "frame": None, "time": None, "faces": [], "error": "broken.jpg: not an image"}
    return [photo, *frames, bad]


def test_summaries_per_source():
    photo, clip, bad = summarize(records())
    assert not photo.video and len(photo.faces) == 1 and photo.labels["happy"] == 1
    assert clip.video and clip.frames == 5 and set(clip.tracks) == {0, 1} and clip.labels == {"happy": 5, "sad": 5}
    assert bad.error == "broken.jpg: not an image"


def test_the_page_holds_everything_and_reaches_for_nothing_outside(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records()))
    page = write_report(path, tmp_path / "report").read_text()
    assert "3 sources (2 photos, 1 video), 11 faces (face-frames in videos), 1 failed" in page
    assert "broken.jpg: not an image" in page
    assert page.count("<img ") == 3  # the distribution, the photo's picture, the video's timeline
    assert not re.search(r'(src|href)="(https?:)?//', page)  # self-contained: no CDN, no outside link


def test_bad_records_are_clear_errors(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"source": "a", "faces": []}\nnot json\n')
    with pytest.raises(FerkitError, match="bad.jsonl:2: not a JSON line"):
        read_records(tmp_path / "bad.jsonl")
    (tmp_path / "other.jsonl").write_text('{"name": "x"}\n')
    with pytest.raises(FerkitError, match="other.jsonl:1: not a ferkit predict record"):
        read_records(tmp_path / "other.jsonl")
    result = ferkit("report", tmp_path / "missing.jsonl", cache_dir=tmp_path / "c")
    assert result.returncode == 2 and "missing.jsonl" in result.stderr

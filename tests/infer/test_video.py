import json
import math
import os
import subprocess
import sys

import cv2
import pytest

from ferkit.errors import FerkitError
from ferkit.infer import Analyzer
from ferkit.infer.result import Face
from ferkit.infer.track import IoUTracker
from ferkit.infer.video import analyze_video, frames
from tests.conftest import SHARED

VIDEOS = SHARED / "videos"


def face(x, y, w=50, h=60):
    return Face((x, y, w, h), 1.0, None, {"happy": 1.0}, "happy")


def test_tracker_keeps_ids_while_faces_move_and_ends_lost_tracks():
    tracker = IoUTracker(min_iou=0.3, max_missed=1)
    assert [f.track for f in tracker.update([face(0, 0), face(200, 0)])] == [0, 1]
    assert [f.track for f in tracker.update([face(205, 3), face(4, 2)])] == [1, 0]  # order does not matter
    assert [f.track for f in tracker.update([face(8, 4), face(400, 0)])] == [0, 2]  # a newcomer, 1 missed once
    tracker.update([face(10, 5)])  # 1 missed twice: gone
    assert [f.track for f in tracker.update([face(205, 3)])] == [3]


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer("fast")


def video(name):
    path = VIDEOS / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


def test_one_face_throughout_keeps_one_track(analyzer):
    results = list(analyzer.analyze_video(str(video("pyfeat_single_face.mp4")), stride=10, smooth=0.5))
    assert [r.frame for r in results] == list(range(0, 72, 10))
    assert all(len(r.faces) == 1 for r in results) and {r.faces[0].track for r in results} == {0}
    assert results[3].time == pytest.approx(30 / 30, abs=1e-3)
    assert all(sum(r.faces[0].probs.values()) == pytest.approx(1, abs=1e-3) for r in results)


def test_detect_every_reuses_boxes_between_detections(analyzer, monkeypatch):
    clip = str(video("pyfeat_single_face.mp4"))
    calls = []
    detect = analyzer.detect
    monkeypatch.setattr(analyzer, "detect", lambda rgb: calls.append(1) or detect(rgb))
    every = list(analyzer.analyze_video(clip, stride=5))
    calls.clear()
    sparse = list(analyzer.analyze_video(clip, stride=5, detect_every=3))
    assert len(calls) == math.ceil(len(sparse) / 3) and len(sparse) == len(every)
    for i, (a, b) in enumerate(zip(every, sparse)):
        assert len(b.faces) == 1 and b.faces[0].track == 0
        if i % 3 == 0:  # detection frames agree exactly
            assert a.faces[0].box == b.faces[0].box and a.faces[0].probs == b.faces[0].probs
        else:  # boxes held from the last detection, probabilities from this frame
            assert b.faces[0].box == sparse[i - i % 3].faces[0].box
    with pytest.raises(FerkitError, match="--detect-every"):
        next(analyzer.analyze_video(clip, detect_every=0))


def test_no_face_video_and_streaming_frames(analyzer):
    assert all(r.faces == [] for r in analyze_video(analyzer, str(video("pyfeat_no_face.mp4")), stride=25))
    stream = frames(str(video("pyfeat_no_face.mp4")))
    index, seconds, rgb = next(stream)  # one frame at a time, not the whole clip in memory
    assert index == 0 and seconds == 0 and rgb.shape == (540, 960, 3)
    stream.close()


def test_predict_command_writes_video_timeline_and_json_lines(tmp_path):
    source = video("pyfeat_single_face.mp4")
    env = {**os.environ, "FERKIT_CACHE_DIR": str(tmp_path / "c")}
    cmd = [sys.executable, "-m", "ferkit", "predict", str(source), "--stride", "12", "--save", str(tmp_path / "out"),
           "--timeline", str(tmp_path / "out")]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["frame"] for r in lines] == list(range(0, 72, 12)) and all(r["faces"][0]["track"] == 0 for r in lines)
    annotated = cv2.VideoCapture(str(tmp_path / "out/pyfeat_single_face.mp4"))
    original = cv2.VideoCapture(str(source))
    assert annotated.get(cv2.CAP_PROP_FRAME_COUNT) == original.get(cv2.CAP_PROP_FRAME_COUNT)  # every frame kept
    assert math.isclose(annotated.get(cv2.CAP_PROP_FPS), original.get(cv2.CAP_PROP_FPS), rel_tol=1e-3)
    rows = (tmp_path / "out/pyfeat_single_face_timeline.csv").read_text().splitlines()
    assert rows[0].startswith("frame,time,track,label,angry") and len(rows) == 1 + len(lines)
    assert (tmp_path / "out/pyfeat_single_face_timeline.png").stat().st_size > 1000
    leftovers = [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".") and p.name != ".ferkit-job"]
    assert not leftovers  # no partial file left (the job's state folder stays, so a re-run skips what is done)


def test_unopenable_camera_is_an_error_line_and_exit_1(tmp_path):
    env = {**os.environ, "FERKIT_CACHE_DIR": str(tmp_path / "c")}
    result = subprocess.run([sys.executable, "-m", "ferkit", "predict", "7"], capture_output=True, text=True, env=env)
    assert result.returncode == 1 and "cannot open as a video or camera" in json.loads(result.stdout)["error"]


def test_timeline_streams_rows_and_writes_nothing_without_faces(tmp_path):
    from ferkit.infer.video import FrameResult, Timeline

    timeline = Timeline(tmp_path / "t.csv", tmp_path / "t.png")
    for i in range(3):
        a, b = face(10 * i, 0), face(300, 0)
        a.track, b.track = 0, 1
        timeline.add(FrameResult(i, i / 10, [a, b]))
        assert not (tmp_path / "t.csv").exists()  # written beside it until complete
    timeline.close()
    rows = (tmp_path / "t.csv").read_text().splitlines()
    assert rows[0] == "frame,time,track,label,happy" and len(rows) == 7 and rows[3] == "1,0.1,0,happy,1.0"
    assert (tmp_path / "t.png").stat().st_size > 0 and not list(tmp_path.glob(".*partial"))
    empty = Timeline(tmp_path / "e.csv", tmp_path / "e.png")
    empty.add(FrameResult(0, 0.0, []))
    empty.close()
    assert not (tmp_path / "e.csv").exists() and not (tmp_path / "e.png").exists()

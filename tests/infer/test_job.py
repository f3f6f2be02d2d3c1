"""The predict job: killed at any moment and re-run, it ends with exactly an uninterrupted run's outputs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ferkit.errors import FerkitError
from ferkit.infer.job import Outputs, PredictSettings, annotated_names, run_job
from tests.conftest import SHARED


def command(out: Path, *extra) -> list[str]:
    sources = [str(SHARED / "photos/facerec"), str(SHARED / "photos/dlib"), str(SHARED / "videos")]
    return [sys.executable, "-m", "ferkit", "predict", *sources, "--json", str(out / "out.jsonl"), "--csv",
            str(out / "out.csv"), "--save", str(out / "annotated"), "--timeline", str(out / "timelines"),
            "--stride", "4", *extra]  # fmt: skip


def parts(out: Path) -> dict[str, float]:
    folder = out / ".out.jsonl.job/parts"
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.jsonl")} if folder.is_dir() else {}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present")
    out = tmp_path_factory.mktemp("whole")
    done = subprocess.run(command(out), capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr  # 1: some photos are unreadable on purpose
    return out


def test_a_job_killed_with_sigkill_resumes_without_redoing_finished_sources(uninterrupted, tmp_path):
    job = subprocess.Popen(command(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(parts(tmp_path)) < 6 and time.time() < deadline and job.poll() is None:
        time.sleep(0.05)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    before = parts(tmp_path)
    assert 6 <= len(before) and not (tmp_path / "out.jsonl").exists()  # mid-job: no output file yet, no torn one
    again = subprocess.run(command(tmp_path), capture_output=True, text=True)
    assert again.returncode in (0, 1) and f"{len(before)} of " in again.stderr
    after = parts(tmp_path)
    assert all(after[name] == mtime for name, mtime in before.items())  # finished sources were not redone
    for name in ("out.jsonl", "out.csv"):
        assert (tmp_path / name).read_text() == (uninterrupted / name).read_text()
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # no torn line
    assert sorted(p.name for p in (tmp_path / "annotated").iterdir()) == sorted(
        p.name for p in (uninterrupted / "annotated").iterdir())  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "timelines").iterdir()) == sorted(
        p.name for p in (uninterrupted / "timelines").iterdir())  # fmt: skip


def test_two_worker_processes_give_the_same_records(uninterrupted, tmp_path):
    done = subprocess.run(command(tmp_path, "--workers", "2"), capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    for name in ("out.jsonl", "out.csv"):
        assert (tmp_path / name).read_text() == (uninterrupted / name).read_text()


def test_a_finished_job_is_not_run_again_and_other_settings_are_refused(tmp_path):
    example = str(Path(__file__).resolve().parents[2] / "examples/astronaut.jpg")
    outputs = Outputs(json=tmp_path / "out.jsonl")
    first = run_job([example], PredictSettings(), outputs, emit=lambda r: None)
    assert (first.sources, first.skipped, first.failed, first.records) == (1, 0, 0, 1)
    again = run_job([example], PredictSettings(), outputs, emit=lambda r: None)
    assert again.skipped == 1
    other_runtime = run_job([example], PredictSettings(runtime="torch"), outputs, emit=lambda r: None)
    assert other_runtime.skipped == 1  # the same logits within 1e-4: the finished job stands
    with pytest.raises(FerkitError, match="another min_score.*--fresh"):
        run_job([example], PredictSettings(min_score=1.0), outputs, emit=lambda r: None)
    fresh = run_job([example], PredictSettings(min_score=1.0), outputs, emit=lambda r: None, fresh=True)
    assert fresh.skipped == 0 and json.loads((tmp_path / "out.jsonl").read_text())["faces"] == []  # 1.0 drops all
    missing = run_job([str(tmp_path / "nope.jpg"), example], PredictSettings(), Outputs(), emit=lambda r: None)
    assert missing.failed == 1 and "nope.jpg" in missing.failures[0]


def test_annotated_names_are_fixed_by_the_source_list():
    assert annotated_names(["a/x.jpg", "b/x.png", "c/x.mp4", "0", "d/x.jpg"]) == [
        "x.png", "x-2.png", "x.mp4", "camera0.mp4", "x-3.png"]  # fmt: skip


def test_a_killed_runs_temp_files_are_removed_when_the_job_resumes(tmp_path):
    example = str(Path(__file__).resolve().parents[2] / "examples/astronaut.jpg")
    outputs = Outputs(json=tmp_path / "out.jsonl", save=tmp_path / "annotated")
    (tmp_path / "annotated").mkdir()
    left = [tmp_path / "annotated/.astronaut.png.ab12cd34.tmp", tmp_path / ".out.jsonl.ef56gh78.tmp"]
    kept = [tmp_path / "annotated/.other.png.ab12cd34.tmp", tmp_path / "annotated/notes.txt"]  # not the job's
    for path in left + kept:
        path.write_text("half-written")
    run_job([example], PredictSettings(), outputs, emit=lambda r: None)
    assert not any(p.exists() for p in left) and all(p.exists() for p in kept)
    assert sorted(p.name for p in (tmp_path / "annotated").iterdir()) == [
        ".other.png.ab12cd34.tmp", "astronaut.png", "notes.txt"]  # fmt: skip

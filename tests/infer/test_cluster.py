"""`ferkit predict --ray local`: a private Ray cluster on loopback gives a one-process run's records, and a source
whose worker died is given to another worker."""

import subprocess
import sys
from pathlib import Path

import pytest

from ferkit.infer.job import Outputs, PredictSettings, run_job
from tests.conftest import SHARED

pytest.importorskip("ray")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples/astronaut.jpg"


def test_a_local_ray_cluster_gives_the_same_records_and_retries_a_dead_workers_source(tmp_path):
    sources = [str(EXAMPLE), str(SHARED / "photos/dlib"), str(SHARED / "videos/faceapi_video.mp4")]
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present")
    from ferkit.infer.images import expand_sources

    expanded = [str(p) for p in expand_sources(sources)]
    run_job(expanded, PredictSettings(stride=2), Outputs(json=tmp_path / "one.jsonl"), emit=lambda r: None)
    env = {"FERKIT_TEST_CRASH_ONCE": "2008_001322", "FERKIT_TEST_CRASH_DIR": str(tmp_path)}
    import os

    done = subprocess.run([sys.executable, "-m", "ferkit", "predict", *sources, "--stride", "2", "--ray", "local",
                           "--json", str(tmp_path / "ray.jsonl")], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "crashed").exists()  # the worker given 2008_001322.jpg died, and the job still finished
    assert (tmp_path / "ray.jsonl").read_text() == (tmp_path / "one.jsonl").read_text()

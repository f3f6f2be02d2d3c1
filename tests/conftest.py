"""Shared fixtures: an isolated dataset cache per test, tiny synthetic datasets, and the real ../shared data."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty dataset cache, so no test sees another's entries."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("FERKIT_CACHE_DIR", str(cache))
    monkeypatch.delenv("FERKIT_NO_CACHE", raising=False)
    return cache


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory):
    """One cache for the whole session's real-data tests: FER2013 is parsed once, not once per test."""
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture
def shared(shared_cache, monkeypatch) -> Path:
    """../shared/datasets, skipping the test where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present")
    monkeypatch.setenv("FERKIT_CACHE_DIR", str(shared_cache))
    return SHARED


def face(seed: int, size: int = 48) -> np.ndarray:
    """A reproducible random (size, size) uint8 image."""
    return np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)


def write_fer_csv(path: Path, rows: list[tuple], gz: bool | None = None) -> Path:
    """A FER2013 CSV of (emotion, pixels, usage) rows; pixels an array (flattened) or a raw string."""
    opener = gzip.open if (path.name.endswith(".gz") if gz is None else gz) else open
    with opener(path, "wt", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["emotion", "pixels", "Usage"])
        for emotion, pixels, usage in rows:
            text = pixels if isinstance(pixels, str) else " ".join(map(str, np.asarray(pixels).ravel().tolist()))
            w.writerow([emotion, text, usage])
    return path


def good_rows(n: int = 9) -> list[tuple]:
    """n valid rows cycling through the classes and the three usages."""
    usages = ("Training", "PublicTest", "PrivateTest")
    return [(i % 7, face(i), usages[i % 3]) for i in range(n)]


def save_image(path: Path, array: np.ndarray, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kw)
    return path


def _hypothesis_profiles() -> None:
    """Under CI the property-based tests replay the same examples every run (a red CI is then reproducible);
    locally each run explores new ones."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()

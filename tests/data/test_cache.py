import os
import time

import numpy as np
import pytest

from ferkit.data import cache, load_dataset
from ferkit.data import load as load_module
from tests.conftest import good_rows, write_fer_csv


@pytest.fixture
def counted_reader(monkeypatch):
    """Count how often the FER2013 CSV parser really runs."""
    calls = []
    real = load_module.READERS["fer2013-csv"]

    def reader(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setitem(load_module.READERS, "fer2013-csv", reader)
    return calls


def test_second_load_comes_from_the_cache_and_equals_the_first(tmp_path, counted_reader, isolated_cache):
    path = write_fer_csv(tmp_path / "fer.csv", [*good_rows(6), ("9", "1 2", "Training")])
    first = load_dataset(path)
    second = load_dataset(path)
    assert len(counted_reader) == 1
    for name in ("images", "labels", "splits", "sources"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert second.problems == first.problems and second.classes == first.classes
    assert len(list((isolated_cache / "datasets").glob("*.npz"))) == 1
    assert not [p for p in (isolated_cache / "datasets").iterdir() if p.name.startswith(".")]  # no temp left


def test_changed_source_rebuilds(tmp_path, counted_reader):
    path = write_fer_csv(tmp_path / "fer.csv", good_rows(6))
    load_dataset(path)
    write_fer_csv(path, good_rows(8))
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))
    assert len(load_dataset(path)) == 8 and len(counted_reader) == 2


def test_changed_folder_rebuilds(tmp_path):
    from tests.conftest import face, save_image

    save_image(tmp_path / "d/a/x.png", face(1, 20))
    assert len(load_dataset(tmp_path / "d")) == 1
    save_image(tmp_path / "d/a/deep/y.png", face(2, 20))
    assert len(load_dataset(tmp_path / "d")) == 2


def test_unreadable_entry_is_rebuilt_and_cache_can_be_disabled(tmp_path, counted_reader, isolated_cache, monkeypatch):
    path = write_fer_csv(tmp_path / "fer.csv", good_rows(3))
    load_dataset(path)
    entry = next((isolated_cache / "datasets").glob("*.npz"))
    entry.write_bytes(b"not a zip")
    assert len(load_dataset(path)) == 3 and len(counted_reader) == 2
    load_dataset(path, cache=False)
    monkeypatch.setenv("FERKIT_NO_CACHE", "1")
    load_dataset(path)
    assert len(counted_reader) == 4


def test_unwritable_cache_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("FERKIT_CACHE_DIR", str(blocker / "sub"))  # a path below a file cannot be created
    assert len(load_dataset(write_fer_csv(tmp_path / "fer.csv", good_rows(3)))) == 3


def test_strict_applies_to_cached_problems(tmp_path):
    path = write_fer_csv(tmp_path / "fer.csv", [*good_rows(2), ("9", "1", "Training")])
    load_dataset(path)
    with pytest.raises(Exception, match="fer.csv:4"):
        load_dataset(path, strict=True)


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("FERKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "ferkit"

"""Property-based: `explain` (behind `ferkit explain` and /v1/explain) gives a page or one clear error for any input."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings

from ferkit.errors import FerkitError
from ferkit.explain import explain
from ferkit.infer import Analyzer
from tests.fuzz import mutated, odd_arrays

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PIL's notes on the corrupt files it reads


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer("fast")


@settings(max_examples=25, deadline=None)
@given(array=odd_arrays())
def test_any_array_gets_a_page(analyzer, array):
    with tempfile.TemporaryDirectory() as out:
        try:
            explain(array, out, analyzer=analyzer)
        except FerkitError as exc:  # e.g. an array that is no image at all
            assert "\n" not in str(exc)
            return
        assert (Path(out) / "index.html").is_file()


@settings(max_examples=25, deadline=None)
@given(file=mutated(suffixes=(".jpg", ".png", ".gif", ".webp", ".tif")))
def test_mutated_files_get_a_page_or_an_error_naming_them(analyzer, file):
    suffix, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            explain(path, Path(folder) / "out", analyzer=analyzer)
        except FerkitError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc)
            return
        assert (Path(folder) / "out/index.html").is_file()

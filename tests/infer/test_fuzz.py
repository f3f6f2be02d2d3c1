"""Property-based: any array, any image file and any mutated real file gets faces or one clear error — never a crash."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from PIL import Image

from ferkit.errors import FerkitError
from ferkit.infer import Analyzer
from tests.fuzz import mutated, odd_arrays, odd_image_files

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PIL's notes on the corrupt files it reads


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer("fast")


def one_answer(call, name: str | None = None):
    """The faces `call` returns, or None when it raised a one-line FerkitError (naming `name`, if given)."""
    try:
        faces = call()
    except FerkitError as exc:
        message = str(exc)
        assert message and "\n" not in message
        assert name is None or name in message, message
        return None
    assert isinstance(faces, list)
    return faces


def in_file(suffix: str, data: bytes, call):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        return one_answer(lambda: call(path), str(path))


@settings(max_examples=60, deadline=None)
@given(array=odd_arrays())
def test_any_array_of_any_shape_and_dtype(analyzer, array):
    one_answer(lambda: analyzer.analyze(array))


@settings(max_examples=60, deadline=None)
@given(file=odd_image_files())
def test_any_mode_size_format_and_exif_orientation(analyzer, file):
    suffix, data = file
    faces = in_file(suffix, data, analyzer.analyze)
    assert faces is not None  # these are valid images: they must decode


@settings(max_examples=80, deadline=None)
@given(file=mutated())
def test_real_files_with_mutated_bytes(analyzer, file):
    suffix, data = file
    if suffix == ".mp4":
        in_file(suffix, data, lambda p: [f for r in analyzer.analyze_video(str(p)) for f in r.faces])
    else:
        in_file(suffix, data, analyzer.analyze)


@pytest.mark.parametrize("height, width", [(1, 1), (1, 10_000), (10_000, 1), (20, 30_000), (6_000, 8_000)])
def test_extreme_shapes(analyzer, tmp_path, height, width):
    path = tmp_path / f"{height}x{width}.png"
    Image.fromarray(np.full((height, width), 128, np.uint8)).save(path)
    assert analyzer.analyze(path) == []

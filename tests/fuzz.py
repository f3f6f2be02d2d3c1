"""Inputs for the property-based tests: odd arrays, images in every PIL mode, and real files with mutated bytes.

Every entry point that takes a user's image or video (Analyzer, `ferkit predict`, `ferkit explain`, the HTTP API)
is held to one rule: faces, or one clear error naming the input — never a crash.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from hypothesis import strategies as st
from PIL import Image

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"
IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "TIFF": ".tif"}
# PIL modes and the formats PIL writes them to (some, like GIF, convert the mode on the way)
MODE_FORMATS = {
    "1": ("PNG", "JPEG", "TIFF", "WEBP", "GIF"), "L": ("PNG", "JPEG", "TIFF", "WEBP", "GIF"),
    "P": ("PNG", "TIFF", "WEBP", "GIF"), "LA": ("PNG", "TIFF", "WEBP", "GIF"), "PA": ("TIFF", "WEBP"),
    "I;16": ("PNG", "TIFF", "WEBP", "GIF"), "I": ("TIFF", "WEBP", "GIF"), "F": ("TIFF", "WEBP", "GIF"),
    "RGB": ("PNG", "JPEG", "TIFF", "WEBP", "GIF"), "RGBA": ("PNG", "TIFF", "WEBP", "GIF"),
    "CMYK": ("JPEG", "TIFF", "WEBP"), "YCbCr": ("JPEG", "TIFF", "WEBP"), "LAB": ("TIFF", "WEBP"),
}  # fmt: skip


def face_photo(side: int = 120) -> Image.Image:
    """The example's face, small, so that a detector pass is quick."""
    rgb = Image.open(EXAMPLE).convert("RGB")
    return rgb.crop((120, 20, 340, 240)).resize((side, side))


@cache
def real_files() -> dict[str, bytes]:
    """The example face encoded as JPEG, PNG, GIF, WebP and TIFF, and a 6-frame MP4 of it."""
    photo = face_photo()
    files = {}
    for fmt, suffix in IMAGE_FORMATS.items():
        buf = io.BytesIO()
        photo.save(buf, format=fmt)
        files[suffix] = buf.getvalue()
    files[".mp4"] = tiny_mp4(photo)
    return files


def tiny_mp4(photo: Image.Image, frames: int = 6) -> bytes:
    import tempfile

    bgr = cv2.cvtColor(np.asarray(photo), cv2.COLOR_RGB2BGR)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "clip.mp4")
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 5.0, (bgr.shape[1], bgr.shape[0]))
        for i in range(frames):
            writer.write(np.roll(bgr, i * 2, axis=1))
        writer.release()
        return Path(path).read_bytes()


ALL_SUFFIXES = (*IMAGE_FORMATS.values(), ".mp4")


@st.composite
def mutated(draw, suffixes=ALL_SUFFIXES) -> tuple[str, bytes]:
    """(suffix, bytes): a real file with some bytes overwritten, a run of random bytes inserted, or cut short."""
    suffix = draw(st.sampled_from(suffixes))
    data = bytearray(real_files()[suffix])
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=64))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return suffix, bytes(data)


@st.composite
def odd_arrays(draw) -> np.ndarray:
    """Arrays of any numeric dtype, 2-D or with 1-4 channels, from 1x1 to thin strips thousands of pixels long."""
    thin = draw(st.booleans())
    long = draw(st.integers(1, 3000)) if thin else draw(st.integers(1, 80))
    short = draw(st.integers(1, 3)) if thin else draw(st.integers(1, 80))
    h, w = (long, short) if draw(st.booleans()) else (short, long)
    channels = draw(st.sampled_from([None, 1, 2, 3, 4]))
    dtype = draw(st.sampled_from(["uint8", "uint16", "int32", "int64", "float32", "float64", "bool"]))
    shape = (h, w) if channels is None else (h, w, channels)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("float"):
        scale = draw(st.sampled_from([1.0, 255.0, 1e6]))
        arr = (rng.standard_normal(shape) * scale).astype(dtype)
        if draw(st.booleans()) and arr.size:
            arr.flat[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return arr
    high = {"uint8": 256, "uint16": 65536}.get(dtype, 2**31)
    return rng.integers(-high if dtype.startswith("int") else 0, high, shape).astype(dtype)


@st.composite
def odd_image_files(draw) -> tuple[str, bytes]:
    """(suffix, bytes) of an image in any PIL mode, of any small size, saved in a format that stores that mode,
    with or without an EXIF orientation (valid or not)."""
    mode = draw(st.sampled_from(sorted(MODE_FORMATS)))
    fmt = draw(st.sampled_from(MODE_FORMATS[mode]))
    w, h = draw(st.integers(1, 90)), draw(st.integers(1, 90))
    base = face_photo(max(w, h)).resize((w, h))
    if mode in ("I;16", "I", "F"):
        gray = np.asarray(base.convert("L"), np.float64) * draw(st.sampled_from([1.0, 257.0]))
        image = Image.fromarray(gray.astype({"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]))
    else:
        image = base.convert(mode)
    buf = io.BytesIO()
    options = {}
    if fmt in ("JPEG", "TIFF", "PNG", "WEBP") and draw(st.booleans()):
        exif = Image.Exif()
        exif[0x0112] = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 0, 9, 65535]))
        options["exif"] = exif.tobytes()
    image.save(buf, format=fmt, **options)
    return IMAGE_FORMATS[fmt], buf.getvalue()

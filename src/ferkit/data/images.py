"""Decode image files defensively: every failure becomes a BadImage with a reason a person can act on."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

# Dataset images are small; anything past this many pixels is far more likely a mistake than a face crop.
MAX_PIXELS = 50_000_000


class BadImage(Exception):
    """An image file that cannot be used; str(exc) is the reason."""


def list_files(root: Path) -> list[Path]:
    """Every non-hidden file below `root`, recursively, in a stable (sorted) order."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return found


def open_image(path: Path) -> Image.Image:
    """Open and fully decode an image, so that truncation shows up here and not later."""
    try:
        if os.path.getsize(path) == 0:
            raise BadImage("empty file (0 bytes)")
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise BadImage(f"image too large ({img.width}x{img.height} pixels)")
            img.load()
            return img.copy() if img.mode != "P" else img.convert("RGBA")
    except FileNotFoundError:
        raise BadImage("file not found") from None
    except PermissionError:
        raise BadImage("cannot be read (permission denied)") from None
    except UnidentifiedImageError:
        raise BadImage("not an image (no known image format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise BadImage(f"corrupt or truncated image ({exc})") from None


def read_gray(path: Path, size: tuple[int, int]) -> np.ndarray:
    """An 8-bit grayscale image of exactly `size` (width, height) as (H, W) uint8; anything else is a BadImage."""
    img = open_image(path)
    if img.mode != "L":
        raise BadImage(f"unexpected mode {img.mode}, expected L (8-bit grayscale)")
    if img.size != size:
        raise BadImage(f"unexpected size {img.width}x{img.height}, expected {size[0]}x{size[1]}")
    return np.asarray(img, dtype=np.uint8)


def to_array(img: Image.Image, size: tuple[int, int], color: bool) -> np.ndarray:
    """Any decoded image as (H, W) gray or (H, W, 3) RGB uint8 of `size` (width, height)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit gray: scale to 8 bits instead of letting PIL clip everything above 255 to white.
        arr = np.asarray(img, dtype=np.float64)
        if arr.max() > 255:
            arr = arr / 257.0
        img = Image.fromarray(arr.clip(0, 255).round().astype(np.uint8))
    img = img.convert("RGB" if color else "L")
    if img.size != size:
        img = img.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def is_color(img: Image.Image) -> bool:
    """True for images whose colour channels differ, so that gray stored as RGB stays gray."""
    if img.mode in ("L", "LA", "1", "I", "I;16", "I;16B", "I;16L", "F"):
        return False
    rgb = np.asarray(img.convert("RGB"), dtype=np.int16)  # (H, W, 3)
    return bool(np.any(rgb[..., 0] != rgb[..., 1]) or np.any(rgb[..., 1] != rgb[..., 2]))

"""Reading user images robustly: EXIF orientation, any mode, lying extensions; clear errors naming the file."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ferkit.errors import FerkitError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


def to_rgb(image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array from a path, a PIL image or an array (gray, RGB or RGBA)."""
    if isinstance(image, str | Path):
        return read_rgb(Path(image))
    if isinstance(image, Image.Image):
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] in (1, 2):  # gray, or gray + alpha
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.size == 0:
        raise FerkitError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4) and not empty, not {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
        raise FerkitError(f"an image array must hold numbers, not {arr.dtype}")
    return np.ascontiguousarray(as_uint8(arr[..., :3]))


def as_uint8(arr: np.ndarray) -> np.ndarray:
    """Pixels of any numeric dtype as uint8: booleans as 0/255, integers above 255 as 16-bit (divided by 257),
    floats in [0, 1] scaled by 255 and others clipped to [0, 255]; NaN and infinities become 0 or 255."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    values = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
    high = float(values.max()) if values.size else 0.0
    if np.issubdtype(arr.dtype, np.integer) and high > 255:
        values = values / 257.0
    elif np.issubdtype(arr.dtype, np.floating) and high <= 1.0:
        values = values * 255.0
    return np.clip(values, 0, 255).round().astype(np.uint8)


def shrink_to(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """(image scaled down so its longer side is at most `max_side`, the scale used); never below one pixel a side,
    as OpenCV requires (a 1 x 10,000 strip stays 1 pixel high)."""
    import cv2

    scale = min(1.0, max_side / max(image.shape[:2]))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def read_rgb(path: Path) -> np.ndarray:
    """Decode any image file PIL knows (by content, not extension), honouring its EXIF orientation."""
    try:
        return decode_rgb(path, str(path))
    except FileNotFoundError:
        raise FerkitError(f"{path}: no such file") from None


class TooManyPixels(FerkitError):
    """An image larger than the caller allows (width x height), found before its pixels are decoded."""


def decode_rgb(source, name: str, max_pixels: int | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a path or binary file object; errors name `name`. `max_pixels` is checked on the
    header, before any pixel is decoded, so that a small file cannot expand into gigabytes."""
    try:
        with Image.open(source) as img:
            pixels = img.width * img.height
            if max_pixels is not None and pixels > max_pixels:
                raise TooManyPixels(
                    f"{name}: {img.width}x{img.height} is {pixels:,} pixels, over the limit of {max_pixels:,}"
                )
            img.seek(0)  # the first frame of an animated GIF or WebP
            img = ImageOps.exif_transpose(img)
            if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):  # no direct conversion to 8-bit RGB
                img = Image.fromarray(as_uint8(np.asarray(img)))
            if img.width < 1 or img.height < 1:
                raise FerkitError(f"{name}: the image is {img.width}x{img.height} pixels")
            return np.asarray(img.convert("RGB"))
    except UnidentifiedImageError:
        raise FerkitError(f"{name}: not an image") from None
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(f"{name}: {exc}") from None
    except FileNotFoundError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        raise FerkitError(f"{name}: unreadable image ({exc})") from None


def expand_sources(sources: list[str]) -> list[Path]:
    """Files named, files below folders (recursively, images and videos by suffix), and glob matches, in order."""
    paths: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            known = IMAGE_SUFFIXES | VIDEO_SUFFIXES
            paths.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in known))
        elif any(c in source for c in "*?[") and not path.exists():
            paths.extend(sorted(Path(p) for p in glob.glob(source, recursive=True) if Path(p).is_file()))
        else:
            paths.append(path)  # a missing file becomes an error line for that file; "0" is a webcam
    return paths

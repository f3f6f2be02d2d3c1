"""`load_dataset`: find out what a path holds, read it with the right reader, and cache the result."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ferkit.data import ckplus, fer2013_csv, fer2013_folder, ferplus, folder
from ferkit.data.cache import cached_load
from ferkit.data.dataset import FaceDataset, ProblemLog, report_problems
from ferkit.errors import DatasetError

FORMATS: tuple[str, ...] = (fer2013_csv.FORMAT, fer2013_folder.FORMAT, ferplus.FORMAT, ckplus.FORMAT, folder.FORMAT)
READERS: dict[str, Callable[..., FaceDataset]] = {
    fer2013_csv.FORMAT: fer2013_csv.read_fer2013_csv,
    fer2013_folder.FORMAT: fer2013_folder.read_fer2013_folder,
    ferplus.FORMAT: ferplus.read_ferplus,
    ckplus.FORMAT: ckplus.read_ckplus,
    folder.FORMAT: folder.read_folder,
}
EXPECTED = (
    "expected a FER2013 CSV (.csv/.csv.gz), FER+'s fer2013new.csv or FER2013Train/label.csv, Kaggle-style "
    "train/<emotion>/ folders, CK+ class folders of S<subject>_<seq>_<frame>.png, or <class>/<image> folders"
)


def _csv_in(root: Path, name: str) -> Path | None:
    return next((root / n for n in (name, name + ".gz") if (root / n).is_file()), None)


def _detect_file(path: Path) -> str:
    if not path.name.lower().endswith((".csv", ".csv.gz")):
        raise DatasetError(f"{path} is not a dataset file; {EXPECTED}")
    columns = fer2013_csv.read_header(path)
    if "emotion" in columns and "pixels" in columns:
        return fer2013_csv.FORMAT
    if "image name" in columns and "nf" in columns:
        return ferplus.FORMAT
    raise DatasetError(
        f"{path}: columns {','.join(columns)[:80]} are neither FER2013's (emotion,pixels,Usage) nor FER+'s"
    )


def detect_format(path: Path) -> str:
    """The format of the dataset at `path`; DatasetError if there is none we know."""
    if not path.exists():
        raise DatasetError(f"{path} does not exist")
    if path.is_file():
        return _detect_file(path)
    if _csv_in(path, ferplus.LABELS_CSV) or ferplus.looks_like_ferplus_folders(path):
        return ferplus.FORMAT
    if _csv_in(path, "fer2013.csv"):  # the original pixels are preferred to JPEG folders beside them
        return fer2013_csv.FORMAT
    for fmt, looks_like in (
        (fer2013_folder.FORMAT, fer2013_folder.looks_like_fer2013_folder),
        (ckplus.FORMAT, ckplus.looks_like_ckplus),
        (folder.FORMAT, folder.looks_like_folder_dataset),
    ):
        if looks_like(path):
            return fmt
    raise DatasetError(f"{path} holds no recognisable dataset; {EXPECTED}")


def _resolve(path: Path, fmt: str, fer2013: Path | None) -> tuple[Path, dict, list[Path]]:
    """(path the reader takes, reader keyword arguments, source files whose change invalidates the cache)."""
    if fmt == fer2013_csv.FORMAT:
        csv_path = path if path.is_file() else _csv_in(path, "fer2013.csv")
        if csv_path is None:
            raise DatasetError(f"{path} has no fer2013.csv or fer2013.csv.gz")
        return csv_path, {}, [csv_path]
    if fmt == ferplus.FORMAT and not (path.is_dir() and ferplus.looks_like_ferplus_folders(path)):
        labels_csv = path if path.is_file() else _csv_in(path, ferplus.LABELS_CSV)
        pixels_csv = fer2013 or (labels_csv and ferplus.find_fer2013_csv(labels_csv))
        if labels_csv is None or pixels_csv is None:
            return path, {"fer2013": fer2013}, [path]  # the reader explains what is missing
        return labels_csv, {"fer2013": pixels_csv}, [labels_csv, pixels_csv]
    if not path.is_dir():
        raise DatasetError(f"{path} is a file; the {fmt} format is a folder")
    return path, {}, [path]


def load_dataset(
    path: str | Path,
    format: str = "auto",
    strict: bool = False,
    cache: bool = True,
    fer2013: str | Path | None = None,
    allow_empty: bool = False,
) -> FaceDataset:
    """Read a dataset in any supported format into one `FaceDataset`.

    Bad items are skipped and warned about (each counted in `dataset.problems`); with strict=True they raise
    DatasetError instead. The parsed result is cached on disk (see ferkit.data.cache) unless cache=False or
    $FERKIT_NO_CACHE is set. `fer2013` points FER+ labels at FER2013's CSV when it is not beside them.
    A dataset with no usable image is an error unless allow_empty (as for a report on what is wrong with it).
    """
    # Absolute, so that sources stay valid from any working directory, cached or not.
    path = Path(os.path.normpath(Path(path).expanduser().absolute()))
    if not path.exists():
        raise DatasetError(f"{path} does not exist")
    fmt = detect_format(path) if format == "auto" else format
    if fmt not in READERS:
        raise DatasetError(f"unknown dataset format {format!r}; choose auto or one of {', '.join(FORMATS)}")
    source, kwargs, stamp_paths = _resolve(path, fmt, Path(fer2013) if fer2013 else None)

    def build() -> FaceDataset:
        return READERS[fmt](source, ProblemLog(), **kwargs)

    if cache and not os.environ.get("FERKIT_NO_CACHE"):
        options = {k: str(v) for k, v in kwargs.items()}
        dataset = cached_load(fmt, source, options, stamp_paths, build)
    else:
        dataset = build()
    report_problems(dataset.problems, strict)
    if len(dataset) == 0 and not allow_empty:
        raise DatasetError(f"{path} holds no usable images as {fmt} ({len(dataset.problems)} problems)")
    return dataset

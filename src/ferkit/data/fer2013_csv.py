"""FER2013 in the challenge's original CSV form: `emotion,pixels,Usage`, one 48x48 face per row (.csv or .csv.gz)."""

from __future__ import annotations

import csv
import gzip
import io
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ferkit.data.dataset import DatasetBuilder, FaceDataset, ProblemLog
from ferkit.errors import DatasetError
from ferkit.fileio import atomic_path
from ferkit.labels import EMOTIONS, INPUT_SIZE

FORMAT = "fer2013-csv"
USAGES: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
N_PIXELS = INPUT_SIZE * INPUT_SIZE


def open_text(path: Path, mode: str = "rt", gz: bool | None = None) -> io.TextIOBase:
    """Open a .csv or .csv.gz as text, with the newline handling the csv module wants."""
    opener = gzip.open if (path.name.endswith(".gz") if gz is None else gz) else open
    return opener(path, mode, newline="", encoding="utf-8")  # type: ignore[operator]


def read_header(path: Path) -> list[str]:
    """The CSV's column names, stripped and lower-cased (the ICML copy writes ' Usage' and ' pixels')."""
    try:
        with open_text(path) as f:
            return [c.strip().lower() for c in next(csv.reader(f), [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot be read as CSV ({exc})") from None


def parse_pixels(text: str) -> tuple[np.ndarray | None, str]:
    """Space-separated grey levels -> (48*48,) uint8, or (None, reason)."""
    tokens = text.split()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # older NumPy warns (newer raise) at a bad token
            values = np.fromstring(text, dtype=np.int64, sep=" ")
    except ValueError:
        values = None
    if values is None or len(values) != len(tokens):
        bad = next((t for t in tokens if not t.lstrip("-").isdigit()), tokens[-1] if tokens else "")
        return None, f"pixel value {bad[:20]!r} is not an integer"
    if len(values) != N_PIXELS:
        return None, f"{len(values)} pixels, expected {N_PIXELS} ({INPUT_SIZE}x{INPUT_SIZE})"
    if values.min() < 0 or values.max() > 255:
        return None, "pixel values outside 0-255"
    return values.astype(np.uint8), ""


def parse_label(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and int(text) < len(EMOTIONS) else None


def read_fer2013_csv(path: Path, problems: ProblemLog) -> FaceDataset:
    """Read every good row; bad rows are reported to `problems` and skipped."""
    columns = read_header(path)
    missing = [c for c in ("emotion", "pixels") if c not in columns]
    if missing:
        raise DatasetError(f"{path}: no column {', '.join(missing)}; a FER2013 CSV has emotion,pixels,Usage")
    i_emotion, i_pixels = columns.index("emotion"), columns.index("pixels")
    i_usage = columns.index("usage") if "usage" in columns else None

    builder = DatasetBuilder(FORMAT, path, EMOTIONS, (INPUT_SIZE, INPUT_SIZE))
    with open_text(path) as f:
        reader = csv.reader(f)
        next(reader)
        rows = tqdm(reader, desc=f"reading {path.name}", unit=" rows", disable=None, leave=False)
        for line, row in enumerate(rows, start=2):
            where = f"{path}:{line}"
            if len(row) != len(columns):
                problems.add(where, f"{len(row)} fields, expected {len(columns)} ({','.join(columns)})")
                continue
            label = parse_label(row[i_emotion])
            if label is None:
                problems.add(where, f"unknown label {row[i_emotion][:20]!r}, expected 0-6 ({', '.join(EMOTIONS)})")
                continue
            usage = row[i_usage].strip() if i_usage is not None else "Training"
            if usage not in USAGES:
                problems.add(where, f"unknown Usage {usage[:20]!r}, expected {', '.join(USAGES)}")
                continue
            pixels, reason = parse_pixels(row[i_pixels])
            if pixels is None:
                problems.add(where, reason)
                continue
            builder.add(pixels, label, usage, where)

    return builder.build(problems)


def write_fer2013_csv(dataset: FaceDataset, path: Path) -> None:
    """Write `dataset` as FER2013's CSV (gzip if the name ends in .gz), atomically.

    Needs 48x48 gray images and the 7 FER2013 classes; splits other than the three FER2013 usages are refused
    so that the file reads back as it was written.
    """
    if dataset.image_shape != (INPUT_SIZE, INPUT_SIZE):
        raise DatasetError(
            f"FER2013 CSV holds {INPUT_SIZE}x{INPUT_SIZE} gray images; {dataset.root} has {dataset.image_shape}"
        )
    if any(c not in EMOTIONS for c in dataset.classes) or (len(dataset) and dataset.labels.max() >= len(EMOTIONS)):
        raise DatasetError(
            f"FER2013 CSV holds only the classes {', '.join(EMOTIONS)}; {dataset.root} has {', '.join(dataset.classes)}"
        )
    unknown = sorted(set(dataset.split_names) - set(USAGES))
    if unknown:
        raise DatasetError(
            f"FER2013 CSV has only the splits {', '.join(USAGES)}; {dataset.root} also has {', '.join(unknown)}"
        )
    codes = [EMOTIONS.index(dataset.classes[i]) for i in dataset.labels]
    with atomic_path(path) as tmp, open_text(tmp, "wt", gz=path.name.endswith(".gz")) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["emotion", "pixels", "Usage"])
        for code, image, split in zip(codes, dataset.images, dataset.splits):
            writer.writerow([code, " ".join(map(str, image.ravel().tolist())), split])

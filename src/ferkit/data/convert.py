"""`ferkit data convert`: FER2013's CSV to the Kaggle folder layout and back (or any readable dataset to either)."""

from __future__ import annotations

from pathlib import Path

from ferkit.data.dataset import FaceDataset
from ferkit.data.fer2013_csv import write_fer2013_csv
from ferkit.data.fer2013_folder import write_fer2013_folder
from ferkit.errors import DatasetError

TARGETS: tuple[str, ...] = ("fer2013-folder", "fer2013-csv")


def default_target(dst: Path) -> str:
    """A destination named *.csv or *.csv.gz gets the CSV; anything else becomes a folder."""
    return "fer2013-csv" if dst.name.lower().endswith((".csv", ".csv.gz")) else "fer2013-folder"


def convert_dataset(ds: FaceDataset, dst: Path, to: str | None = None, image_format: str = "png") -> str:
    """Write `ds` at `dst` as `to` (inferred from dst when None); returns the format written."""
    target = to or default_target(dst)
    if target == "fer2013-csv":
        write_fer2013_csv(ds, dst)
    elif target == "fer2013-folder":
        write_fer2013_folder(ds, dst, image_format)
    else:
        raise DatasetError(f"cannot convert to {target!r}; choose one of {', '.join(TARGETS)}")
    return target

"""Disk cache of parsed datasets: a second load reads one .npz instead of parsing a CSV or decoding JPEGs.

A cache entry is named after what was asked for (format, path, reader options) and stamped with what was on
disk (every source file's path, size and mtime); a different stamp means the source changed and the entry is
rebuilt. Entries are written atomically and read without pickle.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ferkit.data.dataset import FaceDataset, Problem
from ferkit.fileio import atomic_path

log = logging.getLogger("ferkit.data")

# Bump when a reader's output changes, so that old entries are rebuilt rather than trusted.
CACHE_VERSION = 1


def cache_dir() -> Path:
    """$FERKIT_CACHE_DIR, else $XDG_CACHE_HOME/ferkit, else ~/.cache/ferkit."""
    if os.environ.get("FERKIT_CACHE_DIR"):
        return Path(os.environ["FERKIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ferkit"


def source_stamp(paths: list[Path]) -> str:
    """A hash of (path, size, mtime) of every file in `paths` (folders walked recursively)."""
    entries = []
    for root in paths:
        if root.is_file():
            st = root.stat()
            entries.append((str(root), st.st_size, st.st_mtime_ns))
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                st = os.stat(os.path.join(dirpath, name))
                entries.append((os.path.join(dirpath, name), st.st_size, st.st_mtime_ns))
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def entry_path(fmt: str, root: Path, options: dict) -> Path:
    request = json.dumps({"format": fmt, "root": str(root.resolve()), "options": options}, sort_keys=True)
    return cache_dir() / "datasets" / f"{fmt}-{hashlib.sha256(request.encode()).hexdigest()[:20]}.npz"


def cached_load(
    fmt: str, root: Path, options: dict, sources: list[Path], build: Callable[[], FaceDataset]
) -> FaceDataset:
    """Load the dataset from the cache if its stamp matches `sources` now, else build it and store it."""
    entry = entry_path(fmt, root, options)
    stamp = source_stamp(sources)
    dataset = _read_entry(entry, stamp)
    if dataset is not None:
        return dataset
    dataset = build()
    try:
        _write_entry(entry, stamp, dataset)
    except OSError as exc:  # a read-only home or a full disk must not stop the load itself
        log.warning("could not write the dataset cache %s (%s); the next load will parse again", entry, exc)
    return dataset


def _write_entry(entry: Path, stamp: str, ds: FaceDataset) -> None:
    meta = {
        "version": CACHE_VERSION,
        "stamp": stamp,
        "classes": list(ds.classes),
        "format": ds.format,
        "root": ds.root,
        "problems": [p.to_dict() for p in ds.problems],
        "excluded": ds.excluded,
    }
    arrays = {"images": ds.images, "labels": ds.labels, "splits": ds.splits, "sources": ds.sources}
    if ds.soft_labels is not None:
        arrays["soft_labels"] = ds.soft_labels
    if ds.subjects is not None:
        arrays["subjects"] = ds.subjects
    with atomic_path(entry) as tmp, open(tmp, "wb") as f:
        np.savez(f, meta=np.asarray(json.dumps(meta)), **arrays)


def _read_entry(entry: Path, stamp: str) -> FaceDataset | None:
    if not entry.exists():
        return None
    try:
        with np.load(entry, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("version") != CACHE_VERSION or meta.get("stamp") != stamp:
                log.info("dataset cache %s is stale; rebuilding", entry)
                return None
            return FaceDataset(
                images=z["images"],
                labels=z["labels"],
                classes=tuple(meta["classes"]),
                splits=z["splits"],
                sources=z["sources"],
                format=meta["format"],
                root=meta["root"],
                soft_labels=z.get("soft_labels"),
                subjects=z.get("subjects"),
                problems=[Problem(**p) for p in meta["problems"]],
                excluded=meta["excluded"],
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        log.warning("dataset cache %s is unreadable (%s); rebuilding", entry, exc)
        return None

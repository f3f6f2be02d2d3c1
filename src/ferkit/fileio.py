"""Atomic file writes: a temp file beside the target, renamed over it only once it is complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# mkstemp makes 0600 files; finished outputs get the usual permissions (0666 less the process umask).
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success rename it to `path`, on error remove it.

    A reader never sees a half-written file, and a killed process leaves the old file (or none) behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def is_leftover_temp(file_name: str, targets: set[str]) -> bool:
    """Whether `file_name` is an `atomic_path` temp file (`.TARGET.XXXXXXXX.tmp`) of one of `targets`."""
    if not (file_name.startswith(".") and file_name.endswith(".tmp")):
        return False
    target, _, _random = file_name[1:-4].rpartition(".")
    return target in targets


def remove_leftover_temps(folder: Path, targets: set[str]) -> int:
    """Delete the temp files a killed writer left in `folder` for the file names `targets`; return how many.

    Only a re-run of the job that owns those names calls this: a temp of a live writer would be deleted too.
    """
    if not folder.is_dir():
        return 0
    leftovers = [p for p in folder.iterdir() if is_leftover_temp(p.name, targets)]
    for path in leftovers:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return len(leftovers)

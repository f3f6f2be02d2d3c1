"""CK+48 (Lucey et al. 2010, the common 48x48 crops): `<class>/S<subject>_<sequence>_<frame>.png`.

The last 3 frames of each labelled sequence are near duplicates and a subject appears in several classes, so
the reader keeps each image's subject id: split by subject (`FaceDataset.subject_folds`), never by image.
"""

from __future__ import annotations

import re
from pathlib import Path

from tqdm import tqdm

from ferkit.data.dataset import DatasetBuilder, FaceDataset, ProblemLog
from ferkit.data.images import BadImage, list_files, read_gray
from ferkit.labels import EMOTIONS_8, INPUT_SIZE, canonical_emotion

FORMAT = "ckplus"
NAME = re.compile(r"^(S\d+)_(\d+)_(\d+)\.png$", re.IGNORECASE)


def looks_like_ckplus(root: Path) -> bool:
    """Emotion-named class folders whose files are named S<subject>_<sequence>_<frame>.png."""
    for folder in (p for p in root.iterdir() if p.is_dir() and canonical_emotion(p.name)):
        if any(NAME.match(f.name) for f in folder.iterdir()):
            return True
    return False


def read_ckplus(root: Path, problems: ProblemLog) -> FaceDataset:
    items = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        emotion = canonical_emotion(folder.name)
        if emotion is None:
            problems.add(folder, f"unknown class folder, expected one of {', '.join(EMOTIONS_8)}; skipped")
            continue
        files = list_files(folder)
        if not files:
            problems.add(folder, "empty class folder")
        items.extend((f, emotion) for f in files)

    builder = DatasetBuilder(FORMAT, root, EMOTIONS_8, (INPUT_SIZE, INPUT_SIZE))
    for path, emotion in tqdm(items, desc=f"reading {root.name}", unit=" images", disable=None, leave=False):
        match = NAME.match(path.name)
        if match is None:
            problems.add(path, "name is not S<subject>_<sequence>_<frame>.png, so its subject is unknown; skipped")
            continue
        try:
            image = read_gray(path, (INPUT_SIZE, INPUT_SIZE))
        except BadImage as exc:
            problems.add(path, str(exc))
            continue
        builder.add(image, EMOTIONS_8.index(emotion), "all", path, subject=match.group(1).upper())
    return builder.build(problems)

"""FER2013 as Kaggle's image folders: `train/<emotion>/Training_<id>.jpg`, `test/<emotion>/PublicTest_<id>.jpg`.

The split of a file comes from its name's prefix (Training_, PublicTest_, PrivateTest_), so a `test/` folder that
holds both PublicTest and PrivateTest files gives two splits; a file without a prefix takes its split from its folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from ferkit.data.dataset import DatasetBuilder, FaceDataset, ProblemLog, split_sort_key
from ferkit.data.images import BadImage, list_files, read_gray
from ferkit.errors import DatasetError
from ferkit.labels import EMOTIONS, INPUT_SIZE, canonical_emotion, emotion_classes

FORMAT = "fer2013-folder"
SPLIT_FOLDERS: dict[str, str] = {
    "train": "Training",
    "training": "Training",
    "val": "Valid",
    "valid": "Valid",
    "validation": "Valid",
    "test": "Test",
    "testing": "Test",
}
FILE_PREFIX = re.compile(r"^(Training|PublicTest|PrivateTest)_(\d+)\b")
WRITE_FOLDERS: dict[str, str] = {
    "Training": "train",
    "PublicTest": "test",
    "PrivateTest": "test",
    "Valid": "val",
    "Test": "test",
}


def split_folders(root: Path) -> list[Path]:
    """The split folders (train/, test/, ...) directly below `root`."""
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.lower() in SPLIT_FOLDERS)


def looks_like_fer2013_folder(root: Path) -> bool:
    """True if some split folder holds a class folder named after an emotion."""
    return any(canonical_emotion(c.name) for s in split_folders(root) for c in s.iterdir() if c.is_dir())


def _item_split(path: Path, folder_split: str) -> tuple[str, int | None]:
    match = FILE_PREFIX.match(path.name)
    return (match.group(1), int(match.group(2))) if match else (folder_split, None)


def _collect(root: Path, problems: ProblemLog) -> tuple[list[tuple[Path, str, str, int | None]], tuple[str, ...]]:
    """(path, split, class, id) of every candidate file, and the class tuple; misplaced files reported."""
    items, class_names = [], set()
    for split_dir in split_folders(root):
        folder_split = SPLIT_FOLDERS[split_dir.name.lower()]
        n_before = len(items)
        for entry in sorted(split_dir.iterdir()):
            if entry.name.startswith("."):
                continue
            emotion = canonical_emotion(entry.name) if entry.is_dir() else None
            if not entry.is_dir():
                problems.add(entry, "file outside a class folder, skipped")
            elif emotion is None:
                n = len(list_files(entry))
                problems.add(
                    entry, f"unknown class folder, expected one of {', '.join(EMOTIONS)} (its {n} files skipped)"
                )
            else:
                files = list_files(entry)
                if not files:
                    problems.add(entry, "empty class folder")
                class_names.add(emotion)
                for f in files:
                    split, ident = _item_split(f, folder_split)
                    items.append((f, split, emotion, ident))
        if len(items) == n_before:
            problems.add(split_dir, "empty split: no images in any class folder")
    classes = emotion_classes(sorted(class_names)) or EMOTIONS
    # Numbered files in id order (a converted CSV keeps its row order); the rest after them, by split and name.
    items.sort(key=lambda it: (it[3] is None, it[3] or 0, split_sort_key(it[1]), str(it[0])))
    return items, classes


def read_fer2013_folder(root: Path, problems: ProblemLog) -> FaceDataset:
    items, classes = _collect(root, problems)
    builder = DatasetBuilder(FORMAT, root, classes, (INPUT_SIZE, INPUT_SIZE))
    for path, split, emotion, _ in tqdm(items, desc=f"reading {root.name}", unit=" images", disable=None, leave=False):
        try:
            builder.add(read_gray(path, (INPUT_SIZE, INPUT_SIZE)), classes.index(emotion), split, path)
        except BadImage as exc:
            problems.add(path, str(exc))
    return builder.build(problems)


def write_fer2013_folder(dataset: FaceDataset, dst: Path, image_format: str = "png") -> None:
    """Write `dataset` in the Kaggle layout, `<split folder>/<class>/<Split>_<index>.<ext>`.

    The index is the item's position, so reading the folder back gives the original order. PNG keeps every
    pixel; JPEG (quality 95, as the Kaggle copy) keeps the labels. The folder appears only once complete.
    """
    if image_format not in ("png", "jpg"):
        raise DatasetError(f"image format {image_format!r} is not supported; choose png or jpg")
    if dst.exists() and any(dst.iterdir()):
        raise DatasetError(f"{dst} already exists and is not empty; choose a new folder")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", dir=dst.parent))
    try:
        for index, (image, label, split) in enumerate(zip(dataset.images, dataset.labels, dataset.splits)):
            folder = tmp / WRITE_FOLDERS.get(str(split), str(split).lower()) / dataset.classes[label]
            folder.mkdir(parents=True, exist_ok=True)
            options = {"quality": 95} if image_format == "jpg" else {}
            Image.fromarray(image).save(folder / f"{split}_{index}.{image_format}", **options)
        if dst.exists():
            dst.rmdir()
        tmp.rename(dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""Any class-folder dataset: `<class>/<image>` or `<split>/<class>/<image>`, any size, gray or colour.

Class names come from the folder names; when every name is an emotion (in any of its usual spellings) the
classes take the canonical emotion order, so a model trained on FER2013 can be fine-tuned on them directly.
Images of other sizes are resized to the dataset's common size; colour is kept if any image has colour.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tqdm import tqdm

from ferkit.data.dataset import DatasetBuilder, FaceDataset, ProblemLog
from ferkit.data.fer2013_folder import SPLIT_FOLDERS
from ferkit.data.images import BadImage, is_color, list_files, open_image, to_array
from ferkit.labels import canonical_emotion, emotion_classes

FORMAT = "folder"
# A common size larger than this is scaled down to fit: faces for a CNN do not need more, and memory does.
MAX_SIDE = 256


def _subdirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def class_folders(root: Path) -> list[tuple[str, Path]]:
    """(split, class folder) pairs: split folders (train/, val/, test/) if all top folders are splits, else "all"."""
    top = _subdirs(root)
    if top and all(p.name.lower() in SPLIT_FOLDERS for p in top):
        return [(SPLIT_FOLDERS[s.name.lower()], c) for s in top for c in _subdirs(s)]
    return [("all", c) for c in top]


def looks_like_folder_dataset(root: Path) -> bool:
    return any(list_files(folder) for _, folder in class_folders(root))


def _class_tuple(names: set[str]) -> tuple[tuple[str, ...], dict[str, int]]:
    """The class tuple and a folder-name -> label map."""
    canonical = emotion_classes(sorted(names))
    if canonical is not None:
        return canonical, {n: canonical.index(canonical_emotion(n)) for n in names}
    ordered = tuple(sorted(names))
    return ordered, {n: i for i, n in enumerate(ordered)}


def _survey(files: list[Path], problems: ProblemLog) -> tuple[tuple[int, int], bool, set[Path]]:
    """Common (width, height), whether any image has colour, and the files that failed to decode."""
    sizes: Counter[tuple[int, int]] = Counter()
    color, bad = False, set()
    for path in tqdm(files, desc="surveying images", unit=" images", disable=None, leave=False):
        try:
            img = open_image(path)
        except BadImage as exc:
            problems.add(path, str(exc))
            bad.add(path)
            continue
        sizes[img.size] += 1
        color = color or is_color(img)
    if not sizes:
        return (0, 0), False, bad
    (w, h), _ = sizes.most_common(1)[0]
    scale = min(1.0, MAX_SIDE / max(w, h))
    return (max(1, round(w * scale)), max(1, round(h * scale))), color, bad


def read_folder(root: Path, problems: ProblemLog) -> FaceDataset:
    pairs = class_folders(root)
    items = []
    for split, folder in pairs:
        files = list_files(folder)
        if not files:
            problems.add(folder, "empty class folder")
        items.extend((f, split, folder.name) for f in files)
    for split_dir in _subdirs(root) if pairs and pairs[0][0] != "all" else []:
        if not list_files(split_dir):
            problems.add(split_dir, "empty split: no images in any class folder")
    classes, label_of = _class_tuple({name for _, _, name in items})
    size, color, bad = _survey([f for f, _, _ in items], problems)

    shape = (size[1], size[0], 3) if color else (size[1], size[0])
    builder = DatasetBuilder(FORMAT, root, classes, shape)
    for path, split, name in tqdm(items, desc=f"reading {root.name}", unit=" images", disable=None, leave=False):
        if path in bad:
            continue
        try:
            builder.add(to_array(open_image(path), size, color), label_of[name], split, path)
        except BadImage as exc:  # changed since the survey
            problems.add(path, str(exc))
    return builder.build(problems)

"""FER+ (Barsoum et al. 2016): FER2013's faces relabelled by 10 annotators each.

Two layouts: `fer2013new.csv` (vote counts, row i belongs to row i of fer2013.csv), or FER+'s PNG folders
`FER2013Train/`, `FER2013Valid/`, `FER2013Test/`, each with a headerless `label.csv`
(`name,box,neutral,...,NF`). Majority-vote labels as in the FER+ paper: the class with the most votes, the row
dropped when that is "unknown" or "not a face" or when the top count is tied; soft labels are the 8 emotion
votes normalised to sum to 1. Rows left out this way are counted in `excluded`, not reported as problems.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ferkit.data.dataset import DatasetBuilder, FaceDataset, ProblemLog
from ferkit.data.fer2013_csv import open_text, read_fer2013_csv
from ferkit.data.images import BadImage, read_gray
from ferkit.errors import DatasetError
from ferkit.labels import EMOTIONS_8, INPUT_SIZE, canonical_emotion

FORMAT = "ferplus"
LABELS_CSV = "fer2013new.csv"
VOTE_COLUMNS: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF",
)  # fmt: skip
# Column j of the 8 emotion votes goes to class EMOTION_ORDER[j] of EMOTIONS_8.
EMOTION_ORDER = np.array([EMOTIONS_8.index(canonical_emotion(c)) for c in VOTE_COLUMNS[:8]])
USAGE_SPLITS: dict[str, str] = {"Training": "Train", "PublicTest": "Valid", "PrivateTest": "Test"}
FOLDER_SPLITS: dict[str, str] = {"FER2013Train": "Train", "FER2013Valid": "Valid", "FER2013Test": "Test"}


def parse_votes(fields: list[str]) -> np.ndarray | None:
    """Ten vote counts -> (10,) int array, or None if any is not a non-negative integer."""
    if len(fields) != len(VOTE_COLUMNS) or not all(f.strip().isdigit() for f in fields):
        return None
    return np.array([int(f) for f in fields], dtype=np.int64)


def majority_label(votes: np.ndarray) -> tuple[int | None, str]:
    """(class index in EMOTIONS_8, "") for a clear emotion majority, else (None, why the row is excluded)."""
    top = votes.max()
    if top == 0:
        return None, "no votes"
    if np.count_nonzero(votes == top) > 1:
        return None, "tied majority"
    winner = int(votes.argmax())
    if winner == 8:
        return None, "majority unknown"
    if winner == 9:
        return None, "majority not a face"
    return int(EMOTION_ORDER[winner]), ""


def soft_label(votes: np.ndarray) -> np.ndarray:
    """The 8 emotion votes as a distribution in EMOTIONS_8 order, (8,) float32."""
    dist = np.zeros(len(EMOTIONS_8), dtype=np.float32)
    dist[EMOTION_ORDER] = votes[:8] / votes[:8].sum()
    return dist


def read_vote_rows(labels_csv: Path) -> dict[int, np.ndarray]:
    """{line number: 8 emotion votes in EMOTIONS_8 order} for every fer2013new.csv row FER+ kept with at least one
    emotion vote. Line numbers count the header as line 1, as FER2013 item sources ("fer2013.csv:LINE") do."""
    rows: dict[int, np.ndarray] = {}
    with open_text(labels_csv) as f:
        reader = csv.reader(f)
        header = [c.strip() for c in next(reader, [])]
        if header[2:] != list(VOTE_COLUMNS):
            raise DatasetError(f"{labels_csv}: header {','.join(header)} is not FER+'s")
        for line, row in enumerate(reader, start=2):
            votes = parse_votes(row[2:]) if len(row) == len(header) and row[1].strip() else None
            if votes is not None and votes[:8].sum() > 0:
                ordered = np.zeros(len(EMOTIONS_8), dtype=np.float32)
                ordered[EMOTION_ORDER] = votes[:8]
                rows[line] = ordered
    return rows


def find_fer2013_csv(labels_csv: Path) -> Path | None:
    """fer2013.csv(.gz) beside the FER+ file, one folder up, or in a sibling `fer2013/` folder."""
    here = labels_csv.parent
    for folder in (here, here.parent, here.parent / "fer2013", here / "fer2013"):
        for name in ("fer2013.csv", "fer2013.csv.gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def looks_like_ferplus_folders(root: Path) -> bool:
    return any((root / name / "label.csv").is_file() for name in FOLDER_SPLITS)


def read_ferplus(path: Path, problems: ProblemLog, fer2013: Path | None = None) -> FaceDataset:
    """Read either layout; `path` is fer2013new.csv, a folder holding it, or the root of the PNG folders."""
    if path.is_dir() and looks_like_ferplus_folders(path):
        return _read_png_folders(path, problems)
    labels_csv = path / LABELS_CSV if path.is_dir() else path
    if not labels_csv.is_file():
        raise DatasetError(f"{path}: no {LABELS_CSV} and no FER2013Train/label.csv; not a FER+ dataset")
    pixels_csv = fer2013 or find_fer2013_csv(labels_csv)
    if pixels_csv is None:
        raise DatasetError(
            f"{labels_csv}: FER+ labels need FER2013's pixels; put fer2013.csv(.gz) beside it or in ../fer2013/, "
            "or pass --fer2013 PATH"
        )
    return _read_votes_csv(labels_csv, pixels_csv, problems)


def add_row(builder: DatasetBuilder, log: ProblemLog, image: np.ndarray, votes: np.ndarray, split: str, source: str):
    """Keep a row with a clear emotion majority; count the others as excluded by FER+'s rule."""
    label, why = majority_label(votes)
    if label is None:
        log.exclude(why)
    else:
        builder.add(image, label, split, source, soft_label=soft_label(votes))


def _read_votes_csv(labels_csv: Path, pixels_csv: Path, problems: ProblemLog) -> FaceDataset:
    pixel_log = ProblemLog()  # FER2013's bad rows surface below, as the FER+ rows paired with them
    pixels = read_fer2013_csv(pixels_csv, pixel_log)
    by_line = {int(src.rsplit(":", 1)[1]): i for i, src in enumerate(pixels.sources)}
    bad_line = {int(p.source.rsplit(":", 1)[1]): p.reason for p in pixel_log.problems if ":" in p.source}
    builder = DatasetBuilder(FORMAT, labels_csv, EMOTIONS_8, (INPUT_SIZE, INPUT_SIZE))
    with open_text(labels_csv) as f:
        reader = csv.reader(f)
        header = [c.strip() for c in next(reader, [])]
        if header[2:] != list(VOTE_COLUMNS):
            raise DatasetError(
                f"{labels_csv}: header {','.join(header)} is not FER+'s (Usage,Image name,{','.join(VOTE_COLUMNS)})"
            )
        for line, row in enumerate(reader, start=2):
            where = f"{labels_csv}:{line}"
            if len(row) != len(header):
                problems.add(where, f"{len(row)} fields, expected {len(header)}")
                continue
            if not row[1].strip():
                problems.exclude("dropped by FER+ (empty image name)")
                continue
            votes, split = parse_votes(row[2:]), USAGE_SPLITS.get(row[0].strip())
            index = by_line.get(line)  # the FER2013 row at the same position
            if votes is None:
                problems.add(where, "vote counts must be non-negative integers")
            elif split is None:
                problems.add(where, f"unknown Usage {row[0][:20]!r}, expected {', '.join(USAGE_SPLITS)}")
            elif index is None:
                why = bad_line.get(line, "the file has fewer rows")
                problems.add(where, f"no usable FER2013 row at this position in {pixels_csv}: {why}")
            elif pixels.splits[index] != row[0].strip():
                problems.add(where, f"Usage {row[0]} but FER2013's row says {pixels.splits[index]}: files not paired")
            else:
                source = f"{pixels.sources[index]} {row[1].strip()}"
                add_row(builder, problems, pixels.images[index], votes, split, source)
    return builder.build(problems)


def _read_png_folders(root: Path, problems: ProblemLog) -> FaceDataset:
    builder = DatasetBuilder(FORMAT, root, EMOTIONS_8, (INPUT_SIZE, INPUT_SIZE))
    for folder_name, split in FOLDER_SPLITS.items():
        label_csv = root / folder_name / "label.csv"
        if not label_csv.is_file():
            continue
        seen: set[str] = set()
        with open(label_csv, newline="", encoding="utf-8") as f:
            for line, row in enumerate(csv.reader(f), start=1):
                where = f"{label_csv}:{line}"
                votes = parse_votes(row[2:]) if len(row) == 2 + len(VOTE_COLUMNS) else None
                if votes is None:
                    problems.add(where, "expected name,box and 10 vote counts (non-negative integers)")
                    continue
                if row[0] in seen:
                    problems.add(where, f"{row[0]} listed twice; the second is skipped")
                    continue
                seen.add(row[0])
                try:
                    image = read_gray(root / folder_name / row[0], (INPUT_SIZE, INPUT_SIZE))
                except BadImage as exc:
                    problems.add(root / folder_name / row[0], str(exc))
                    continue
                add_row(builder, problems, image, votes, split, str(root / folder_name / row[0]))
    return builder.build(problems)

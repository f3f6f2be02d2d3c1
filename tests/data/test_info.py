import numpy as np

from ferkit.data import load_dataset
from ferkit.data.info import dataset_report, duplicate_report, format_report
from tests.conftest import face, write_fer_csv


def test_duplicates_are_counted_with_label_conflicts_and_split_leaks(tmp_path):
    rows = [(0, face(1), "Training"), (0, face(1), "Training"), (3, face(1), "PublicTest"), (2, face(2), "Training")]
    ds = load_dataset(write_fer_csv(tmp_path / "fer.csv", rows))
    assert duplicate_report(ds) == {"extra_copies": 2, "groups_with_conflicting_labels": 1, "groups_across_splits": 1}


def test_report_and_table(tmp_path):
    rows = [(0, face(1), "Training"), (6, face(2), "PublicTest"), (9, face(3), "Training")]
    ds = load_dataset(write_fer_csv(tmp_path / "fer.csv", rows))
    report = dataset_report(ds)
    assert report["splits"] == {
        "Training": {"angry": 1, "disgust": 0, "fear": 0, "happy": 0, "sad": 0, "surprise": 0, "neutral": 0},
        "PublicTest": {"angry": 0, "disgust": 0, "fear": 0, "happy": 0, "sad": 0, "surprise": 0, "neutral": 1},
    }
    table = format_report(report)
    lines = table.splitlines()
    assert lines[1] == "format fer2013-csv, 2 images of 48x48 pixels, mode L"
    assert [ln.split() for ln in lines if ln.startswith(("angry", "neutral", "total"))] == [
        ["angry", "1", "0"], ["neutral", "0", "1"], ["total", "1", "1"]]  # fmt: skip
    assert "problems: 1 (items skipped)" in table and "unknown label '9'" in table
    assert np.all(ds.images[0] == face(1))

import logging

import numpy as np
import pytest

from ferkit.data.dataset import MAX_WARNINGS, FaceDataset, Problem, report_problems
from ferkit.errors import DatasetError


def tiny(n=6):
    return FaceDataset(
        images=np.zeros((n, 4, 4), np.uint8),
        labels=np.arange(n) % 3,
        classes=("a", "b", "c"),
        splits=np.array(["PublicTest", "Training", "Extra"] * (n // 3)),
        sources=np.array([f"s{i}" for i in range(n)]),
        format="test",
        root="/r",
    )


def test_split_names_counts_roles_and_subsets():
    ds = tiny()
    assert ds.split_names == ["Training", "PublicTest", "Extra"]
    assert ds.counts()["Training"] == {"a": 0, "b": 2, "c": 0}
    assert ds.split_for_role("train") == "Training" and ds.split_for_role("val") == "PublicTest"
    assert ds.split_for_role("test") is None
    assert ds.split("Extra").sources.tolist() == ["s2", "s5"]
    with pytest.raises(DatasetError, match="has no split 'Valid'; it has Training, PublicTest, Extra"):
        ds.split("Valid")


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="labels has 2 items"):
        FaceDataset(
            np.zeros((3, 2, 2), np.uint8), np.zeros(2), ("a",), np.array(["x"] * 3), np.array(["s"] * 3), "f", "r"
        )


def test_no_subjects_means_no_subject_folds():
    with pytest.raises(DatasetError, match="no subject ids"):
        tiny().subject_folds()


def test_report_problems_warns_a_bounded_number_then_summarises(caplog):
    problems = [Problem(f"file{i}", "bad") for i in range(MAX_WARNINGS + 5)]
    with caplog.at_level(logging.WARNING, logger="ferkit.data"):
        report_problems(problems, strict=False)
    assert len(caplog.records) == MAX_WARNINGS + 1
    assert "and 5 more problems" in caplog.records[-1].getMessage()
    with pytest.raises(DatasetError, match=r"file0: bad \(and 24 more\)"):
        report_problems(problems, strict=True)

import numpy as np
import pytest

from ferkit.data import load_dataset
from ferkit.errors import DatasetError
from tests.conftest import face, save_image


def ck_tree(root, subjects=6):
    classes = ["anger", "contempt", "happy", "sadness", "surprise"]
    for s in range(subjects):
        for frame in range(3):
            save_image(root / classes[s % 5] / f"S{s:03d}_001_{frame:08d}.png", face(s * 10 + frame))
        save_image(root / classes[(s + 1) % 5] / f"S{s:03d}_002_00000009.png", face(s * 10 + 9))
    return root


def test_reads_classes_and_subjects(tmp_path):
    ds = load_dataset(ck_tree(tmp_path / "ck"))
    assert ds.format == "ckplus" and len(ds) == 24
    assert set(ds.subjects) == {f"S{s:03d}" for s in range(6)}
    assert {ds.classes[i] for i in ds.labels} == {"angry", "contempt", "happy", "sad", "surprise"}
    assert ds.counts()["all"]["neutral"] == 0


@pytest.mark.parametrize("k", [2, 3, 6])
def test_subject_folds_never_split_a_subject(tmp_path, k):
    ds = load_dataset(ck_tree(tmp_path / "ck"))
    folds = ds.subject_folds(k, seed=1)
    assert set(folds) == set(range(k))
    for subject in set(ds.subjects):
        assert len(set(folds[ds.subjects == subject])) == 1
    np.testing.assert_array_equal(folds, ds.subject_folds(k, seed=1))  # reproducible


def test_subject_folds_errors(tmp_path):
    ds = load_dataset(ck_tree(tmp_path / "ck"))
    with pytest.raises(DatasetError, match="7 subject folds from 6 subjects"):
        ds.subject_folds(7)


def test_bad_names_unknown_class_and_bad_images(tmp_path):
    root = ck_tree(tmp_path / "ck")
    save_image(root / "happy/photo.png", face(1))
    save_image(root / "boredom/S001_001_00000001.png", face(1))
    (root / "happy/S100_001_00000001.png").write_bytes(b"")
    save_image(root / "happy/S101_001_00000001.png", face(1, 64))
    ds = load_dataset(root, format="ckplus")
    assert len(ds) == 24
    reasons = {p.source.rsplit("/", 1)[1]: p.reason for p in ds.problems}
    assert "subject is unknown" in reasons["photo.png"]
    assert reasons["boredom"].startswith("unknown class folder")
    assert reasons["S100_001_00000001.png"] == "empty file (0 bytes)"
    assert reasons["S101_001_00000001.png"].startswith("unexpected size 64x64")

"""The readers on the real datasets in ../shared/datasets: exact counts, as users will see them."""

import numpy as np
import pytest

from ferkit.data import load_dataset
from ferkit.data.info import dataset_report, duplicate_report
from ferkit.labels import EMOTIONS, EMOTIONS_8

pytestmark = pytest.mark.shared

TRAINING = dict(zip(EMOTIONS, [3995, 436, 4097, 7215, 4830, 3171, 4965]))
PUBLIC_TEST = dict(zip(EMOTIONS, [467, 56, 496, 895, 653, 415, 607]))


@pytest.mark.parametrize("fmt", ["auto", "fer2013-folder"])
def test_fer2013_csv_and_kaggle_folders_give_the_published_counts(shared, fmt):
    ds = load_dataset(shared / "fer2013", format=fmt)
    assert ds.format == ("fer2013-csv" if fmt == "auto" else fmt)
    report = dataset_report(ds)
    assert report["splits"] == {"Training": TRAINING, "PublicTest": PUBLIC_TEST}
    assert sum(TRAINING.values()) == 28709 and sum(PUBLIC_TEST.values()) == 3589
    assert report["problems"] == [] and report["image_size"] == [48, 48] and report["mode"] == "L"


def test_kaggle_jpegs_hold_the_csv_labels_and_nearly_its_pixels(shared):
    csv = load_dataset(shared / "fer2013").split("PublicTest")
    jpg = load_dataset(shared / "fer2013", format="fer2013-folder").split("PublicTest")
    # The Kaggle ids do not give the CSV's order, so compare as multisets of (label, rounded mean level).
    assert sorted(np.bincount(csv.labels).tolist()) == sorted(np.bincount(jpg.labels).tolist())
    assert abs(float(csv.images.mean()) - float(jpg.images.mean())) < 0.5


def test_fer2013_duplicates_quirk(shared):
    # "About a thousand exact duplicate images, some with different labels": 1,273 groups hold 1,532 extra copies,
    # and 270 groups leak between Training and PublicTest.
    dup = duplicate_report(load_dataset(shared / "fer2013"))
    assert dup == {"extra_copies": 1532, "groups_with_conflicting_labels": 47, "groups_across_splits": 270}


def test_ferplus_rows(shared):
    ds = load_dataset(shared / "ferplus")
    assert ds.classes == EMOTIONS_8 and ds.split_names == ["Train", "Valid"]
    counts = ds.counts()
    assert sum(counts["Train"].values()) == 26940 and sum(counts["Valid"].values()) == 3396
    # Every one of the 32,298 rows is accounted for: kept, or excluded by FER+'s own rules.
    assert len(ds) + sum(ds.excluded.values()) == 32298
    assert ds.excluded["dropped by FER+ (empty image name)"] == 158
    assert ds.problems == []
    np.testing.assert_allclose(ds.soft_labels.sum(1), 1.0, rtol=1e-5)
    assert (ds.soft_labels.argmax(1) == ds.labels).all()


def test_ckplus48(shared):
    ds = load_dataset(shared / "ckplus48")
    assert ds.format == "ckplus" and len(ds) == 981
    per_class = ds.counts()["all"]
    assert sum(1 for n in per_class.values() if n) == 7
    assert per_class == {"angry": 135, "disgust": 177, "fear": 75, "happy": 207, "sad": 84, "surprise": 249,
                         "neutral": 0, "contempt": 54}  # fmt: skip
    assert len(set(ds.subjects)) == 118
    folds = ds.subject_folds(10)
    assert all(len(set(folds[ds.subjects == s])) == 1 for s in set(ds.subjects))

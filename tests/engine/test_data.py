"""From a dataset on disk to training tensors: FER+ votes as soft targets next to FER2013's labels."""

import numpy as np
import pytest

from ferkit.config import DataConfig
from ferkit.data import load_dataset
from ferkit.engine.data import load_training_data, with_ferplus_votes
from ferkit.errors import FerkitError
from tests.conftest import face, save_image, write_fer_csv
from tests.data.test_ferplus import HEADER


@pytest.fixture
def paired(tmp_path):
    """Four FER2013 rows and their FER+ votes: a clear vote, one with contempt and unknown, a dropped row, and
    one with only not-a-face votes."""
    fer = write_fer_csv(tmp_path / "fer2013.csv", [(3, face(0), "Training"), (0, face(1), "Training"),
                                                    (4, face(2), "Training"), (6, face(3), "PublicTest")])  # fmt: skip
    votes = HEADER + ("Training,fer0.png,2,8,0,0,0,0,0,0,0,0\n"  # 2 neutral, 8 happiness
                      "Training,fer1.png,0,0,0,0,4,0,0,4,2,0\n"  # 4 anger, 4 contempt, 2 unknown
                      "Training,,0,0,0,0,0,0,0,0,0,0\n"  # dropped by FER+
                      "PublicTest,fer3.png,0,0,0,0,0,0,0,0,0,10\n")  # fmt: skip
    (tmp_path / "fer2013new.csv").write_text(votes)
    return fer, tmp_path / "fer2013new.csv"


def test_votes_join_the_labels_as_soft_targets(paired):
    fer, votes = paired
    ds = with_ferplus_votes(load_dataset(fer), str(votes), 0.5)
    soft = ds.soft_labels  # classes: angry disgust fear happy sad surprise neutral
    assert np.allclose(soft.sum(1), 1)
    assert np.allclose(soft[0], [0, 0, 0, 0.5 + 0.4, 0, 0, 0.1])  # half one-hot happy, half the votes
    assert np.allclose(soft[1], [1, 0, 0, 0, 0, 0, 0])  # contempt and unknown votes dropped: all anger
    assert np.allclose(soft[2], np.eye(7)[4]) and np.allclose(soft[3], np.eye(7)[6])  # no votes: the label alone
    assert (ds.labels == load_dataset(fer).labels).all()  # the labels themselves are untouched


def test_the_training_loader_applies_them_and_refuses_what_cannot_pair(paired, tmp_path):
    fer, votes = paired
    ds = load_training_data(DataConfig(path=str(fer), ferplus_votes=str(votes), ferplus_weight=1.0))
    assert np.allclose(ds.soft_labels[0], [0, 0, 0, 0.8, 0, 0, 0.2])
    with pytest.raises(FerkitError, match="between 0 and 1"):
        with_ferplus_votes(load_dataset(fer), str(votes), 1.5)
    for i, name in enumerate(["happy", "sad"] * 3):
        save_image(tmp_path / f"folders/{name}/{i}.png", face(i))
    with pytest.raises(FerkitError, match="7 classes|by CSV row"):
        with_ferplus_votes(load_dataset(tmp_path / "folders"), str(votes), 0.5)

import numpy as np
import pytest

from ferkit.data import load_dataset
from ferkit.data.ferplus import majority_label, soft_label
from ferkit.errors import DatasetError
from ferkit.labels import EMOTIONS_8
from tests.conftest import face, save_image, write_fer_csv

HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
#          neu hap sur sad ang dis fea con unk NF
VOTES = [
    ("Training", "fer0.png", "0,9,1,0,0,0,0,0,0,0"),  # happy
    ("Training", "", "0,0,0,0,0,0,0,0,0,10"),  # dropped by FER+ (empty name)
    ("Training", "fer2.png", "5,5,0,0,0,0,0,0,0,0"),  # tie
    ("PublicTest", "fer3.png", "1,0,0,0,0,0,0,0,6,3"),  # majority unknown
    ("PublicTest", "fer4.png", "0,0,0,0,0,0,0,0,2,8"),  # majority not a face
    ("PublicTest", "fer5.png", "2,0,0,0,0,0,0,6,0,2"),  # contempt
    ("PrivateTest", "fer6.png", "0,0,0,0,7,1,0,0,2,0"),  # angry
]


def ferplus_pair(root, votes=VOTES):
    """fer2013new.csv in root/ferplus and the FER2013 CSV in the sibling root/fer2013, as in ../shared."""
    usages = [u for u, _, _ in votes]
    (root / "fer2013").mkdir(parents=True)
    write_fer_csv(root / "fer2013/fer2013.csv.gz", [(0, face(i), u) for i, u in enumerate(usages)])
    (root / "ferplus").mkdir()
    text = HEADER + "".join(f"{u},{n},{v}\n" for u, n, v in votes)
    (root / "ferplus/fer2013new.csv").write_text(text)
    return root / "ferplus"


def test_majority_labels_soft_labels_and_exclusions(tmp_path):
    ds = load_dataset(ferplus_pair(tmp_path))
    assert ds.format == "ferplus" and ds.classes == EMOTIONS_8
    assert [ds.classes[i] for i in ds.labels] == ["happy", "contempt", "angry"]
    assert ds.split_names == ["Train", "Valid", "Test"]
    assert ds.excluded == {
        "dropped by FER+ (empty image name)": 1,
        "tied majority": 1,
        "majority unknown": 1,
        "majority not a face": 1,
    }
    assert ds.problems == []
    # Pixels are paired by row position: FER+ row 6 (fer5.png) is FER2013 row 6, whatever the name says.
    np.testing.assert_array_equal(ds.images[1], face(5))
    np.testing.assert_allclose(ds.soft_labels.sum(1), 1.0, rtol=1e-6)
    assert ds.soft_labels[0][EMOTIONS_8.index("happy")] == pytest.approx(0.9)
    assert ds.soft_labels[0][EMOTIONS_8.index("surprise")] == pytest.approx(0.1)
    assert ds.soft_labels[2][EMOTIONS_8.index("disgust")] == pytest.approx(1 / 8)  # unknown/NF votes left out


def test_csv_file_itself_and_explicit_fer2013_path(tmp_path):
    folder = ferplus_pair(tmp_path)
    assert len(load_dataset(folder / "fer2013new.csv")) == 3
    moved = tmp_path / "elsewhere/deeper"
    moved.mkdir(parents=True)
    (folder / "fer2013new.csv").rename(moved / "fer2013new.csv")
    with pytest.raises(DatasetError, match="need FER2013's pixels"):
        load_dataset(moved)
    assert len(load_dataset(moved, fer2013=tmp_path / "fer2013/fer2013.csv.gz")) == 3


def test_bad_rows_are_reported(tmp_path):
    votes = [
        *VOTES[:1],
        ("Training", "fer1.png", "0,x,0,0,0,0,0,0,0,0"),
        ("Elsewhere", "fer2.png", "0,9,0,0,0,0,0,0,0,0"),
    ]
    folder = ferplus_pair(tmp_path, votes)
    with open(folder / "fer2013new.csv", "a") as f:
        f.write("Training,fer9.png,1,2\nTraining,fer10.png,0,9,0,0,0,0,0,0,0,0\n")
    ds = load_dataset(folder)
    assert len(ds) == 1
    reasons = [p.reason for p in ds.problems]
    assert reasons[0] == "vote counts must be non-negative integers"
    assert reasons[1].startswith("unknown Usage 'Elsewhere'")
    assert reasons[2] == "4 fields, expected 12"
    assert "no usable FER2013 row at this position" in reasons[3]
    assert ds.problems[0].source.endswith("fer2013new.csv:3")


def test_mispaired_files_are_caught(tmp_path):
    folder = ferplus_pair(tmp_path, [("PublicTest", "fer0.png", "0,9,0,0,0,0,0,0,0,0")])
    write_fer_csv(tmp_path / "fer2013/fer2013.csv.gz", [(0, face(0), "Training")])
    ds = load_dataset(folder, allow_empty=True)
    assert "files not paired" in ds.problems[0].reason


def ferplus_folders(root):
    for split, rows in {"FER2013Train": [("a.png", "0,9,1,0,0,0,0,0,0,0"), ("b.png", "8,1,1,0,0,0,0,0,0,0")],
                        "FER2013Valid": [("c.png", "0,0,0,9,0,0,0,0,1,0")],
                        "FER2013Test": [("d.png", "0,0,5,0,0,0,0,0,0,5")]}.items():  # fmt: skip
        for i, (name, _) in enumerate(rows):
            save_image(root / split / name, face(i))
        text = "".join(f'{name},"(0, 0, 48, 48)",{v}\n' for name, v in rows)
        (root / split / "label.csv").write_text(text)
    return root


def test_png_folder_layout(tmp_path):
    root = ferplus_folders(tmp_path / "FERPlus")
    ds = load_dataset(root)
    assert ds.format == "ferplus"
    assert ds.split_names == ["Train", "Valid"]  # the test row is a tie between surprise and NF
    assert [ds.classes[i] for i in ds.labels] == ["happy", "neutral", "sad"]
    assert ds.excluded == {"tied majority": 1}


def test_png_folder_bad_rows(tmp_path):
    root = ferplus_folders(tmp_path / "FERPlus")
    with open(root / "FER2013Train/label.csv", "a") as f:
        f.write('a.png,"(0, 0, 48, 48)",0,9,1,0,0,0,0,0,0,0\n')
        f.write('missing.png,"(0, 0, 48, 48)",0,9,1,0,0,0,0,0,0,0\n')
        f.write("broken\n")
    ds = load_dataset(root)
    assert len(ds) == 3
    assert [p.reason for p in ds.problems] == [
        "a.png listed twice; the second is skipped",
        "file not found",
        "expected name,box and 10 vote counts (non-negative integers)",
    ]


def test_majority_and_soft_label_functions():
    assert majority_label(np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0])) == (None, "no votes")
    assert majority_label(np.array([4, 3, 3, 0, 0, 0, 0, 0, 0, 0])) == (EMOTIONS_8.index("neutral"), "")
    np.testing.assert_allclose(soft_label(np.array([1, 1, 0, 0, 0, 0, 0, 2, 5, 5])).sum(), 1.0)

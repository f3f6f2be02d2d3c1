import pytest

from ferkit.data import detect_format, load_dataset
from ferkit.errors import DatasetError
from tests.conftest import face, good_rows, save_image, write_fer_csv


def test_detects_each_format(tmp_path):
    (tmp_path / "a").mkdir()
    write_fer_csv(tmp_path / "a/fer2013.csv.gz", good_rows(3))
    assert detect_format(tmp_path / "a") == "fer2013-csv"
    assert detect_format(tmp_path / "a/fer2013.csv.gz") == "fer2013-csv"
    save_image(tmp_path / "b/train/happy/Training_1.jpg", face(1))
    assert detect_format(tmp_path / "b") == "fer2013-folder"
    save_image(tmp_path / "c/happy/S005_001_00000001.png", face(1))
    assert detect_format(tmp_path / "c") == "ckplus"
    save_image(tmp_path / "d/cats/x.png", face(1))
    assert detect_format(tmp_path / "d") == "folder"
    (tmp_path / "e").mkdir()
    (tmp_path / "e/fer2013new.csv").write_text("Usage,Image name,neutral,NF\n")
    assert detect_format(tmp_path / "e") == "ferplus"
    assert detect_format(tmp_path / "e/fer2013new.csv") == "ferplus"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p, "does not exist"),
        (lambda p: p.mkdir() or p, "holds no recognisable dataset"),
        (lambda p: (p.parent / "notes.txt").write_text("x") and p.parent / "notes.txt", "is not a dataset file"),
        (lambda p: (p.parent / "other.csv").write_text("a,b\n1,2\n") and p.parent / "other.csv", "neither FER2013's"),
    ],
)
def test_unusable_paths_are_clear_errors(tmp_path, make, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset(make(tmp_path / "x"))


def test_explicit_format_mismatch_and_unknown_format(tmp_path):
    path = write_fer_csv(tmp_path / "fer.csv", good_rows(3))
    with pytest.raises(DatasetError, match="is a file; the ckplus format is a folder"):
        load_dataset(path, format="ckplus")
    with pytest.raises(DatasetError, match="unknown dataset format 'jaffe'"):
        load_dataset(path, format="jaffe")
    with pytest.raises(DatasetError, match="no fer2013.csv"):
        load_dataset(tmp_path, format="fer2013-csv")


def test_folder_holding_csv_and_kaggle_folders_prefers_csv_unless_told(tmp_path):
    write_fer_csv(tmp_path / "fer2013.csv", good_rows(3))
    save_image(tmp_path / "train/happy/Training_1.jpg", face(1))
    assert load_dataset(tmp_path).format == "fer2013-csv"
    assert load_dataset(tmp_path, format="fer2013-folder").format == "fer2013-folder"

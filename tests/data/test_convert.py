import numpy as np
import pytest

from ferkit.data import load_dataset
from ferkit.data.convert import convert_dataset
from ferkit.errors import DatasetError
from tests.conftest import good_rows, write_fer_csv


def test_csv_to_png_folder_and_back_is_pixel_exact(tmp_path):
    src_csv = write_fer_csv(tmp_path / "fer2013.csv", good_rows(21))
    src = load_dataset(src_csv)
    assert convert_dataset(src, tmp_path / "folder") == "fer2013-folder"
    folder = load_dataset(tmp_path / "folder")
    assert folder.format == "fer2013-folder"
    assert folder.split_names == ["Training", "PublicTest", "PrivateTest"]  # test/ holds both, told apart by name
    np.testing.assert_array_equal(folder.images, src.images)
    np.testing.assert_array_equal(folder.labels, src.labels)
    np.testing.assert_array_equal(folder.splits, src.splits)
    convert_dataset(folder, tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == src_csv.read_bytes()


def test_csv_to_jpeg_folder_and_back_keeps_labels(tmp_path):
    src = load_dataset(write_fer_csv(tmp_path / "fer2013.csv.gz", good_rows(14)))
    convert_dataset(src, tmp_path / "jpg", image_format="jpg")
    assert all(p.suffix == ".jpg" for p in (tmp_path / "jpg").rglob("*.*"))
    convert_dataset(load_dataset(tmp_path / "jpg"), tmp_path / "back.csv.gz")
    back = load_dataset(tmp_path / "back.csv.gz")
    np.testing.assert_array_equal(back.labels, src.labels)
    np.testing.assert_array_equal(back.splits, src.splits)
    assert np.abs(back.images.astype(int) - src.images).mean() < 40  # JPEG is lossy: close, not equal


def test_refuses_a_non_empty_destination_and_unknown_targets(tmp_path):
    src = load_dataset(write_fer_csv(tmp_path / "fer2013.csv", good_rows(3)))
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken/file").write_text("x")
    with pytest.raises(DatasetError, match="not empty"):
        convert_dataset(src, tmp_path / "taken")
    with pytest.raises(DatasetError, match="cannot convert to 'jaffe'"):
        convert_dataset(src, tmp_path / "x", to="jaffe")
    with pytest.raises(DatasetError, match="png or jpg"):
        convert_dataset(src, tmp_path / "y", image_format="gif")
    assert not (tmp_path / "y").exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

import numpy as np
import pytest

from ferkit.data import load_dataset
from ferkit.data.dataset import ProblemLog
from ferkit.data.fer2013_csv import parse_pixels, read_fer2013_csv, write_fer2013_csv
from ferkit.errors import DatasetError
from tests.conftest import face, good_rows, write_fer_csv


@pytest.mark.parametrize("name", ["fer.csv", "fer.csv.gz"])
def test_reads_plain_and_gzipped_csv(tmp_path, name):
    path = write_fer_csv(tmp_path / name, good_rows(9))
    ds = load_dataset(path)
    assert ds.format == "fer2013-csv"
    assert ds.images.shape == (9, 48, 48) and ds.images.dtype == np.uint8
    assert ds.labels.tolist() == [i % 7 for i in range(9)]
    assert ds.split_names == ["Training", "PublicTest", "PrivateTest"]
    np.testing.assert_array_equal(ds.images[4], face(4))
    assert ds.sources[0].endswith(f"{name}:2")  # line 2: the first row after the header


def test_icml_header_with_spaces_and_other_column_order(tmp_path):
    path = tmp_path / "icml_face_data.csv"
    path.write_text("emotion, Usage, pixels\n3,PublicTest," + " ".join(["7"] * 2304) + "\n")
    ds = load_dataset(path)
    assert ds.labels.tolist() == [3] and ds.split_names == ["PublicTest"] and ds.images.max() == 7


BAD_ROWS = {
    "short row": ("0", " ".join(["1"] * 2303), "Training"),
    "long row": ("0", " ".join(["1"] * 2305), "Training"),
    "not a number": ("0", " ".join(["1"] * 2303 + ["x"]), "Training"),
    "out of range": ("0", " ".join(["1"] * 2303 + ["256"]), "Training"),
    "unknown label 7": ("7", " ".join(["1"] * 2304), "Training"),
    "label not a number": ("happy", " ".join(["1"] * 2304), "Training"),
    "unknown usage": ("0", " ".join(["1"] * 2304), "Validation"),
}
REASONS = {
    "short row": "2303 pixels, expected 2304",
    "long row": "2305 pixels, expected 2304",
    "not a number": "'x' is not an integer",
    "out of range": "outside 0-255",
    "unknown label 7": "unknown label '7'",
    "label not a number": "unknown label 'happy'",
    "unknown usage": "unknown Usage 'Validation'",
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_bad_row_is_skipped_reported_and_strict_raises(tmp_path, case, caplog):
    path = write_fer_csv(tmp_path / "fer.csv", [*good_rows(2), BAD_ROWS[case], *good_rows(1)])
    ds = load_dataset(path)
    assert len(ds) == 3
    assert len(ds.problems) == 1
    assert ds.problems[0].source.endswith("fer.csv:4")
    assert REASONS[case] in ds.problems[0].reason
    assert "fer.csv:4" in caplog.text and REASONS[case] in caplog.text  # the warning names the row and the reason
    with pytest.raises(DatasetError, match="fer.csv:4"):
        load_dataset(path, strict=True)


def test_wrong_number_of_fields_is_reported(tmp_path):
    path = write_fer_csv(tmp_path / "fer.csv", good_rows(2))
    with open(path, "a") as f:
        f.write("1,2\n")
    ds = load_dataset(path)
    assert len(ds) == 2 and "2 fields, expected 3" in ds.problems[0].reason


def test_missing_column_is_a_clear_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("label,data\n1,2\n")
    with pytest.raises(DatasetError, match="neither FER2013's"):
        load_dataset(path)
    with pytest.raises(DatasetError, match="no column emotion, pixels"):
        read_fer2013_csv(path, ProblemLog())


def test_parse_pixels_accepts_extra_whitespace():
    values, reason = parse_pixels("  " + "  ".join(["9"] * 2304) + " \n")
    assert reason == "" and values.shape == (2304,) and values.max() == 9


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz"])
def test_write_then_read_is_exact(tmp_path, name):
    src = load_dataset(write_fer_csv(tmp_path / "in.csv", good_rows(12)))
    write_fer2013_csv(src, tmp_path / name)
    back = load_dataset(tmp_path / name)
    np.testing.assert_array_equal(back.images, src.images)
    np.testing.assert_array_equal(back.labels, src.labels)
    np.testing.assert_array_equal(back.splits, src.splits)
    if name == "out.csv":  # same text as the original file, byte for byte
        assert (tmp_path / name).read_bytes() == (tmp_path / "in.csv").read_bytes()


def test_writer_refuses_what_the_format_cannot_hold(tmp_path):
    ds = load_dataset(write_fer_csv(tmp_path / "in.csv", good_rows(3)))
    big = ds.subset(np.arange(3))
    big.images = np.zeros((3, 64, 64), np.uint8)
    with pytest.raises(DatasetError, match="48x48"):
        write_fer2013_csv(big, tmp_path / "out.csv")
    odd = ds.subset(np.arange(3))
    odd.splits = np.array(["Training", "Valid", "Training"])
    with pytest.raises(DatasetError, match="also has Valid"):
        write_fer2013_csv(odd, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()

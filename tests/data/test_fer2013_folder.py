import io

import numpy as np
import pytest
from PIL import Image

from ferkit.data import load_dataset
from ferkit.errors import DatasetError
from tests.conftest import face, save_image


def kaggle_tree(root):
    """train/ with Training files; test/ holding PublicTest and PrivateTest files side by side."""
    save_image(root / "train/happy/Training_10.png", face(10))
    save_image(root / "train/angry/Training_3.png", face(3))
    save_image(root / "train/neutral/Training_7.jpg", face(7), quality=95)
    save_image(root / "test/sad/PublicTest_20.png", face(20))
    save_image(root / "test/happy/PublicTest_21.png", face(21))
    save_image(root / "test/surprise/PrivateTest_30.png", face(30))
    save_image(root / "test/fear/PrivateTest_31.png", face(31))
    return root


def test_kaggle_test_folder_with_public_and_private_is_three_splits(tmp_path):
    ds = load_dataset(kaggle_tree(tmp_path / "fer"))
    assert ds.format == "fer2013-folder"
    assert ds.split_names == ["Training", "PublicTest", "PrivateTest"]
    counts = ds.counts()
    assert counts["Training"] == {
        "angry": 1,
        "disgust": 0,
        "fear": 0,
        "happy": 1,
        "sad": 0,
        "surprise": 0,
        "neutral": 1,
    }
    assert counts["PublicTest"]["sad"] == 1 and counts["PublicTest"]["happy"] == 1
    assert counts["PrivateTest"]["surprise"] == 1 and counts["PrivateTest"]["fear"] == 1
    # Items come in id order, and PNG pixels are kept exactly.
    assert [s.rsplit("/", 1)[1] for s in ds.sources[:3]] == ["Training_3.png", "Training_7.jpg", "Training_10.png"]
    np.testing.assert_array_equal(ds.images[0], face(3))


def test_split_from_folder_when_the_name_has_no_prefix(tmp_path):
    save_image(tmp_path / "d/train/happy/im0.png", face(0))
    save_image(tmp_path / "d/test/sad/im1.png", face(1))
    save_image(tmp_path / "d/val/sad/im2.png", face(2))
    ds = load_dataset(tmp_path / "d")
    assert ds.split_names == ["Training", "Valid", "Test"]


def test_contempt_folder_gives_eight_classes(tmp_path):
    save_image(tmp_path / "d/train/contempt/Training_1.png", face(1))
    save_image(tmp_path / "d/train/happy/Training_2.png", face(2))
    ds = load_dataset(tmp_path / "d", format="fer2013-folder")
    assert len(ds.classes) == 8 and ds.classes[ds.labels[0]] == "contempt"


def _truncated_png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(face(5)).save(buf, format="PNG")
    return buf.getvalue()[:-60]


BAD_FILES = {
    "zero-byte": (lambda p: p.write_bytes(b""), "empty file"),
    "corrupt": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20), "corrupt or truncated"),
    "truncated": (lambda p: p.write_bytes(_truncated_png()), "corrupt or truncated"),
    "not an image": (lambda p: p.write_text("just some notes"), "not an image"),
    "wrong size": (
        lambda p: Image.fromarray(face(1, 64)).save(p, format="PNG"),
        "unexpected size 64x64, expected 48x48",
    ),
    "wrong mode": (lambda p: Image.new("RGB", (48, 48), (9, 80, 200)).save(p, format="PNG"), "unexpected mode RGB"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_image_is_skipped_reported_and_strict_raises(tmp_path, case, caplog):
    root = kaggle_tree(tmp_path / "fer")
    make, reason = BAD_FILES[case]
    bad = root / "train/happy/Training_99.png"
    make(bad)
    ds = load_dataset(root)
    assert len(ds) == 7
    assert [(p.source, p.reason[: len(reason)]) for p in ds.problems] == [(str(bad), reason)]
    assert "Training_99.png" in caplog.text
    with pytest.raises(DatasetError, match="Training_99.png"):
        load_dataset(root, strict=True)


def test_unknown_class_folder_misplaced_file_and_empty_folders_are_reported(tmp_path):
    root = kaggle_tree(tmp_path / "fer")
    save_image(root / "train/bored/Training_50.png", face(50))
    save_image(root / "train/Training_51.png", face(51))
    (root / "train/disgust").mkdir()
    (root / "val/happy").mkdir(parents=True)
    ds = load_dataset(root)
    assert len(ds) == 7
    reasons = {p.source.split("fer/")[1]: p.reason for p in ds.problems}
    assert reasons["train/bored"].startswith("unknown class folder") and "its 1 files skipped" in reasons["train/bored"]
    assert reasons["train/Training_51.png"] == "file outside a class folder, skipped"
    assert reasons["train/disgust"] == "empty class folder"
    assert reasons["val"].startswith("empty split")
    with pytest.raises(DatasetError, match="strict"):
        load_dataset(root, strict=True)


def test_folder_with_no_usable_image_is_an_error(tmp_path):
    (tmp_path / "d/train/happy").mkdir(parents=True)
    (tmp_path / "d/train/happy/Training_1.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match="no usable images"):
        load_dataset(tmp_path / "d")
    assert len(load_dataset(tmp_path / "d", allow_empty=True).problems) == 1

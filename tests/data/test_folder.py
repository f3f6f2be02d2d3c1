import numpy as np
from PIL import Image

from ferkit.data import load_dataset
from ferkit.labels import EMOTIONS
from tests.conftest import face, save_image


def test_class_names_from_folders_any_size_gray(tmp_path):
    save_image(tmp_path / "d/cats/a.png", face(1, 32))
    save_image(tmp_path / "d/cats/b.png", face(2, 32))
    save_image(tmp_path / "d/dogs/nested/c.png", face(3, 50))  # another size, one folder deeper
    ds = load_dataset(tmp_path / "d")
    assert ds.format == "folder" and ds.classes == ("cats", "dogs")
    assert ds.images.shape == (3, 32, 32) and ds.mode == "L"
    assert ds.split_names == ["all"] and ds.labels.tolist() == [0, 0, 1]
    np.testing.assert_array_equal(ds.images[0], face(1, 32))


def test_emotion_folders_take_canonical_order(tmp_path):
    for i, name in enumerate(["Happiness", "sadness", "Neutral"]):
        save_image(tmp_path / f"d/{name}/x{i}.jpg", face(i, 64))
    ds = load_dataset(tmp_path / "d", format="folder")
    assert ds.classes == EMOTIONS
    assert sorted(ds.classes[i] for i in ds.labels) == ["happy", "neutral", "sad"]


def test_colour_is_kept_and_gray_stored_as_rgb_stays_gray(tmp_path):
    gray_rgb = np.repeat(face(1, 40)[..., None], 3, axis=2)
    save_image(tmp_path / "g/a/x.png", gray_rgb)
    assert load_dataset(tmp_path / "g").images.shape == (1, 40, 40)
    save_image(tmp_path / "c/a/x.png", gray_rgb)
    save_image(tmp_path / "c/b/y.png", np.dstack([face(1, 40), face(2, 40), face(3, 40)]))
    ds = load_dataset(tmp_path / "c")
    assert ds.images.shape == (2, 40, 40, 3) and ds.mode == "RGB"


def test_palette_rgba_and_16_bit_images(tmp_path):
    (tmp_path / "d/a").mkdir(parents=True)
    (tmp_path / "d/b").mkdir()
    Image.fromarray(face(1, 40)).convert("P").save(tmp_path / "d/a/palette.png")
    Image.fromarray(np.full((40, 40), 1000, np.uint16)).save(tmp_path / "d/a/sixteen.png")
    Image.new("RGBA", (40, 40), (50, 50, 50, 128)).save(tmp_path / "d/b/rgba.png")
    ds = load_dataset(tmp_path / "d")
    assert len(ds) == 3 and ds.problems == [] and ds.mode == "L"
    assert ds.images[1].max() == round(1000 / 257)  # 16-bit scaled to 8 bits, not clipped to white


def test_split_folders(tmp_path):
    save_image(tmp_path / "d/train/a/x.png", face(1, 20))
    save_image(tmp_path / "d/val/b/y.png", face(2, 20))
    save_image(tmp_path / "d/test/a/z.png", face(3, 20))
    ds = load_dataset(tmp_path / "d")
    assert ds.split_names == ["Training", "Valid", "Test"] and ds.classes == ("a", "b")


def test_large_images_are_scaled_down(tmp_path):
    save_image(tmp_path / "d/a/big.png", face(1, 600))
    assert load_dataset(tmp_path / "d").image_shape == (256, 256)


def test_bad_files_empty_folders_and_empty_splits(tmp_path):
    save_image(tmp_path / "d/train/a/x.png", face(1, 20))
    (tmp_path / "d/train/a/notes.txt").write_text("hello")
    (tmp_path / "d/train/a/zero.jpg").write_bytes(b"")
    (tmp_path / "d/train/b").mkdir()
    (tmp_path / "d/test").mkdir()
    ds = load_dataset(tmp_path / "d")
    assert len(ds) == 1
    reasons = {p.source.split("/d/")[1]: p.reason for p in ds.problems}
    assert reasons == {
        "train/a/notes.txt": "not an image (no known image format)",
        "train/a/zero.jpg": "empty file (0 bytes)",
        "train/b": "empty class folder",
        "test": "empty split: no images in any class folder",
    }

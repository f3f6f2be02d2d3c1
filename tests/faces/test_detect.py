import numpy as np
import pytest
from PIL import Image

from ferkit.errors import FerkitError
from ferkit.faces import create_detector
from ferkit.faces.detect import _nms, _square
from tests.conftest import SHARED

pytest.importorskip("onnxruntime")


def photo(name: str) -> np.ndarray:
    path = SHARED / "photos" / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return np.asarray(Image.open(path).convert("RGB"))


def test_mtcnn_finds_the_faces_of_a_group_photo_with_landmarks_inside_them():
    faces = create_detector("mtcnn")(photo("dlib/2008_001322.jpg"))
    assert len(faces) == 3 and all(f.score > 0.9 for f in faces)
    for f in faces:
        x, y, w, h = f.box
        marks = f.landmarks  # left eye, right eye, nose, mouth left, mouth right
        assert marks.shape == (5, 2)
        assert np.all((marks[:, 0] >= x) & (marks[:, 0] <= x + w) & (marks[:, 1] >= y) & (marks[:, 1] <= y + h))
        assert marks[0, 1] < marks[3, 1] and marks[1, 1] < marks[4, 1]  # eyes above the mouth
        assert marks[0, 0] < marks[1, 0]  # the left eye (in the image) left of the right one


def test_a_face_moved_on_a_bigger_canvas_is_found_where_it_was_put():
    rgb = photo("dlib/2008_001322.jpg")
    canvas = np.full((600, 800, 3), 128, np.uint8)
    canvas[150 : 150 + rgb.shape[0], 200 : 200 + rgb.shape[1]] = rgb
    before = create_detector("mtcnn")(rgb)
    after = create_detector("mtcnn")(canvas)
    moved = sorted((round(f.box[0] - 200), round(f.box[1] - 150)) for f in after)
    assert len(after) == len(before)
    assert np.allclose(moved, sorted((round(f.box[0]), round(f.box[1])) for f in before), atol=3)


@pytest.mark.parametrize("name", ["mtcnn", "haar"])
def test_no_face_gives_an_empty_list(name):
    assert create_detector(name)(np.full((240, 320, 3), 200, np.uint8)) == []
    assert create_detector(name)(np.zeros((8, 8, 3), np.uint8)) == []  # smaller than any face


def test_haar_finds_faces_without_landmarks_and_min_face_filters():
    rgb = photo("dlib/2008_001322.jpg")
    faces = create_detector("haar")(rgb)
    assert len(faces) >= 2 and all(f.landmarks is None for f in faces)
    assert create_detector("haar", min_face=300)(rgb) == []
    assert len(create_detector("mtcnn", min_face=200)(rgb)) < len(create_detector("mtcnn")(rgb))


def test_nms_square_and_unknown_detector():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], float)
    assert _nms(boxes, np.array([0.9, 0.8, 0.7]), 0.5).tolist() == [0, 2]
    assert _square(np.array([[0, 0, 10, 4]], float)).tolist() == [[0, -3, 10, 7]]
    with pytest.raises(FerkitError, match="unknown detector 'yolo'"):
        create_detector("yolo")


def test_box_scoring():
    from ferkit.faces.scoring import iou, matches, score_detections

    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1 and iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert matches([(0, 0, 10, 10), (30, 30, 10, 10)], [(1, 1, 10, 10), (2, 2, 10, 10)]) == 1  # one-to-one
    scores = score_detections({"a": [(0, 0, 10, 10)], "b": [(0, 0, 4, 4)]}, {"a": [(0, 0, 10, 10), (50, 50, 9, 9)]})
    assert scores["recall"] == 0.5 and scores["false"] == 1 and scores["false_per_image"] == 0.5


def test_the_default_min_score_keeps_every_labelled_face_and_drops_the_false_ones():
    """The threshold was chosen on ../shared's 43 hand-labelled faces: it must cost no recall there."""
    from PIL import ImageOps

    from ferkit.faces.scoring import read_boxes, score_detections
    from ferkit.infer import Analyzer

    csv_path = SHARED / "photos/face_boxes_dlib_pascal.csv"
    if not csv_path.is_file():
        pytest.skip(f"{csv_path} is not present")
    truth = read_boxes(csv_path)
    images = {p: np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB")) for p in truth}
    analyzer = Analyzer("fast")
    everything = score_detections(truth, {p: [d.box for d in analyzer.detect(rgb, 0.0)] for p, rgb in images.items()})
    default = score_detections(truth, {p: [d.box for d in analyzer.detect(rgb)] for p, rgb in images.items()})
    assert analyzer.min_score == 0.95
    assert default["found"] == everything["found"] >= 42 and default["false"] == 0 < everything["false"]

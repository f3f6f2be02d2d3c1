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
    assert create_detector(name, min_face=8)(np.full((50, 60, 3), 100, np.uint8)) == []  # pyramid scaled up


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
    assert default["found"] == everything["found"] >= 42 and default["false"] == 0  # 43/43 since 2026-12


def test_pyramid_crops_equal_a_resize_of_the_box_and_are_black_outside_the_image():
    import cv2

    from ferkit.faces.detect import _normalised, _Pyramid

    rng = np.random.default_rng(0)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), (0, 0), 3)  # smooth: no aliasing
    pyramid = _Pyramid(rgb)
    for scale in (0.6, 0.36, 0.216):
        pyramid.add(scale)
    boxes = np.array([[100, 50, 147, 97], [10, 20, 209, 219], [-20, -20, 27, 27]], float)  # 48, 200 and 48 px
    crops = pyramid.crops(boxes, 24)  # (3, 24, 24, 3) in the nets' (W, H) layout
    assert crops.shape == (3, 24, 24, 3)
    for k in (0, 1):
        x1, y1, x2, y2 = boxes[k].astype(int)
        expected = cv2.resize(rgb[y1 : y2 + 1, x1 : x2 + 1], (24, 24), interpolation=cv2.INTER_AREA)
        assert np.abs(crops[k].transpose(1, 0, 2) - _normalised(expected)).max() < 0.06  # within ~8 grey levels
    outside = crops[2].transpose(1, 0, 2)[:9, :9]  # the box's top-left 20 px lie outside the image
    assert np.allclose(outside, _normalised(np.zeros(1, np.uint8)))


def test_small_faces_in_a_large_photo_are_found():
    """A 7-face group photo scaled so its faces are 20-24 px, on a 1280x960 canvas: every face found (min face 20)."""
    import cv2

    from ferkit.faces.scoring import read_boxes

    csv_path = SHARED / "photos/face_boxes_dlib_pascal.csv"
    if not csv_path.is_file():
        pytest.skip(f"{csv_path} is not present")
    truth = read_boxes(csv_path)[csv_path.parent / "dlib/2008_004176.jpg"]
    scale, left, top = 0.55, 500, 400
    group = cv2.resize(photo("dlib/2008_004176.jpg"), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((960, 1280, 3), 110, np.uint8)
    canvas[top : top + group.shape[0], left : left + group.shape[1]] = group
    faces = [f for f in create_detector("mtcnn")(canvas) if f.score >= 0.95]
    assert len(faces) == len(truth) == 7
    for x, y, w, h in truth:  # each labelled face holds the centre of a detection
        x, y, w, h = left + x * scale, top + y * scale, w * scale, h * scale
        assert any(x <= f.box[0] + f.box[2] / 2 <= x + w and y <= f.box[1] + f.box[3] / 2 <= y + h for f in faces)


def test_a_second_look_finds_a_face_cut_by_the_frame():
    """fer_test.mp4's frame 14: a face cut by the top edge, looking down. Its first box scores 0.85; scored again in
    the box the net proposed, 0.97."""
    from ferkit.infer.video import frames

    clip = SHARED / "videos/fer_test.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is not present")
    frame = next(item[2] for k, item in enumerate(frames(clip)) if k == 14)
    with_look = [f for f in create_detector("mtcnn")(frame) if f.score >= 0.95]
    without = [f for f in create_detector("mtcnn", second_look=(1.0, 1.0))(frame) if f.score >= 0.95]
    assert len(with_look) == 1 and without == []

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ferkit.errors import FerkitError
from ferkit.infer import Analyzer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "astronaut.jpg"


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer("fast")


def test_the_example_astronaut_smiles(analyzer):
    faces = analyzer.analyze(EXAMPLE)
    top = faces[0]
    assert top.label == "happy" and top.probs["happy"] > 0.5 and top.score > 0.99
    assert sum(top.probs.values()) == pytest.approx(1, abs=1e-4) and list(top.probs)[0] == "angry"
    d = top.to_dict()
    assert set(d) == {"box", "score", "landmarks", "probs", "label", "track"} and len(d["landmarks"]) == 5
    x, y, w, h = d["box"]
    assert 150 < x + w / 2 < 300 and 50 < y + h / 2 < 200  # the face, not the suit


def image_variants():
    rgb = Image.open(EXAMPLE).convert("RGB")
    yield "gray", rgb.convert("L")
    yield "cmyk", rgb.convert("CMYK")
    yield "rgba", rgb.convert("RGBA")
    yield "palette", rgb.convert("P")
    yield "16-bit", Image.fromarray(np.asarray(rgb.convert("L"), np.uint16) * 257)
    rotated = rgb.rotate(90, expand=True)  # stored sideways, with EXIF saying "rotate back"
    exif = rotated.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display", undoing the counter-clockwise turn above
    buf = io.BytesIO()
    rotated.save(buf, "JPEG", exif=exif.tobytes())
    yield "exif-rotated", Image.open(io.BytesIO(buf.getvalue()))


@pytest.mark.parametrize("name, image", list(image_variants()), ids=lambda v: v if isinstance(v, str) else "")
def test_any_image_mode_finds_the_face(analyzer, name, image, tmp_path):
    path = tmp_path / f"x.{'jpg' if image.mode in ('L', 'RGB', 'CMYK') else 'png'}"
    image.save(path) if name != "exif-rotated" else path.write_bytes(_jpeg_bytes(image))
    faces = analyzer.analyze(path)
    assert faces and faces[0].score > 0.95
    x, y, w, h = faces[0].box
    assert 150 < x + w / 2 < 300 and 50 < y + h / 2 < 200  # upright again for the EXIF case


@pytest.mark.parametrize("fmt, suffix", [("WEBP", ".webp"), ("GIF", ".gif"), ("PNG", ".jpg"), ("JPEG", ".png")])
def test_formats_animations_and_lying_extensions(analyzer, tmp_path, fmt, suffix):
    rgb = Image.open(EXAMPLE).convert("RGB")
    path = tmp_path / f"face{suffix}"  # PNG bytes named .jpg and JPEG bytes named .png: the content decides
    if fmt == "GIF":  # animated: the first frame is the face, the second is blank
        rgb.save(path, format="GIF", save_all=True, append_images=[Image.new("RGB", rgb.size)], duration=100)
    else:
        rgb.save(path, format=fmt)
    faces = analyzer.analyze(path)
    assert faces and faces[0].label == "happy"


def test_a_tiny_face_is_found_with_a_small_min_face():
    small = Image.open(EXAMPLE).convert("RGB").resize((128, 128))  # the face is about 25 px wide
    canvas = Image.new("RGB", (640, 480), (100, 100, 100))
    canvas.paste(small, (300, 200))
    faces = Analyzer("fast", min_face=12).analyze(canvas)
    assert faces and 300 < faces[0].box[0] < 428 and 200 < faces[0].box[1] < 328


def _jpeg_bytes(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=image.getexif().tobytes())
    return buf.getvalue()


def test_batch_size_does_not_change_the_answer(analyzer):
    one, many = Analyzer("fast", batch=1).analyze(EXAMPLE), analyzer.analyze(EXAMPLE)
    assert len(one) == len(many)
    for a, b in zip(one, many):
        assert a.label == b.label
        assert np.allclose(list(a.probs.values()), list(b.probs.values()), atol=1e-4)


def test_huge_images_report_boxes_in_original_pixels(analyzer):
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    big = np.kron(rgb, np.ones((6, 6, 1), np.uint8))  # 3072 x 3072
    small_box, big_box = analyzer.analyze(rgb)[0].box, analyzer.analyze(big)[0].box
    # the same face found at another pyramid scale: within a tenth of its size (a box left in the reduced copy's
    # pixels would be 2.4 times too small)
    np.testing.assert_allclose(np.array(big_box) / 6, small_box, atol=0.1 * max(small_box[2:]))


def test_no_face_and_bad_input(analyzer, tmp_path):
    assert analyzer.analyze(np.full((200, 300, 3), 90, np.uint8)) == []
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(FerkitError, match="notes.jpg: not an image"):
        analyzer.analyze(tmp_path / "notes.jpg")
    with pytest.raises(FerkitError, match="no such file"):
        analyzer.analyze(tmp_path / "missing.png")


def test_predict_command_on_a_folder_with_a_bad_file(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.jpg").write_bytes(EXAMPLE.read_bytes())
    (tmp_path / "in/broken.png").write_bytes(b"\x89PNG garbage")
    (tmp_path / "in/blank.png").write_bytes(_png(np.full((64, 64, 3), 30, np.uint8)))
    env = {**os.environ, "FERKIT_CACHE_DIR": str(tmp_path / "c")}
    (tmp_path / "in/sub").mkdir()
    (tmp_path / "in/sub/a.jpg").write_bytes(EXAMPLE.read_bytes())  # the same name twice: two annotated files
    cmd = [sys.executable, "-m", "ferkit", "predict", str(tmp_path / "in"), "--json", str(tmp_path / "out.jsonl"),
           "--csv", str(tmp_path / "out.csv"), "--save", str(tmp_path / "annotated")]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 1  # something failed, and the batch still went through every file
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {Path(r["source"]).name: r for r in lines}
    assert by_name["a.jpg"]["faces"][0]["label"] == "happy" and by_name["a.jpg"]["error"] is None
    assert by_name["blank.png"]["faces"] == [] and by_name["blank.png"]["error"] is None
    assert "broken.png" in by_name["broken.png"]["error"] and "broken.png" in result.stderr
    assert (tmp_path / "out.jsonl").read_text().splitlines() == result.stdout.splitlines()
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert rows[0].startswith("source,frame,face,x,y,w,h,score,label,angry")
    assert len(rows) == 1 + 2 * len(by_name["a.jpg"]["faces"])
    saved = sorted(p.name for p in (tmp_path / "annotated").iterdir())
    assert saved == ["a-2.png", "a.png", "blank.png"]  # not the unreadable one
    drawn, source = np.asarray(Image.open(tmp_path / "annotated/a.png")), np.asarray(Image.open(EXAMPLE))
    assert drawn.shape == source.shape and not np.array_equal(drawn, source)


def _png(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.shared
def test_every_photo_in_shared_runs_without_a_crash(analyzer, shared):
    import csv

    from ferkit.infer.images import expand_sources

    rows = csv.DictReader((shared / "photos/sources.csv").read_text().splitlines())
    expected = {r["file"]: r["faces_expected_visual"] for r in rows}
    paths = expand_sources([str(shared / "photos")])
    assert len(paths) == 44
    for path in paths:
        faces = analyzer.analyze(path)  # RGBA PNGs, an animated GIF, 1080p, 240p, a painting: none may raise
        seen = expected[path.relative_to(shared / "photos").as_posix()]
        if seen.split()[0] == "0":
            assert faces == [], path  # dogs, horses, an eagle, The Scream, an empty room
        elif seen.split()[0].isdigit():
            assert len(faces) >= int(seen.split()[0].rstrip("+")) - 1, path


def test_min_score_drops_detections_scoring_less(analyzer):
    faces = analyzer.analyze(EXAMPLE)  # the default, 0.95 for MTCNN
    assert len(faces) == 1  # the face; the astronaut's suit (0.90 before 2026-12) no longer reaches the last net
    just_above = float(np.nextafter(np.float32(faces[0].score), np.float32(2)))
    assert analyzer.analyze(EXAMPLE, min_score=just_above) == []
    assert len(analyzer.analyze(EXAMPLE, min_score=faces[0].score)) == 1
    assert Analyzer("fast", detector="haar").min_score == 0.0  # Haar's scores are not probabilities
    assert Analyzer("fast", min_score=just_above).replica().analyze(EXAMPLE) == []

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ferkit.explain import explain
from ferkit.explain.report import heat_in_image
from ferkit.infer import Analyzer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "astronaut.jpg"


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer("fast")


def test_explain_writes_every_picture_and_an_index_that_shows_them(analyzer, tmp_path):
    result = explain(EXAMPLE, tmp_path, analyzer=analyzer)
    assert result.faces and result.targets[0] == "happy"
    for method in ("gradcam", "gradcam++"):
        assert result.heatmaps[method].shape == (len(result.faces), 40, 40)
    assert result.overlay.shape == (512, 512, 3)
    names = {p.name for p in result.files}
    expected = {"gradcam_image.png", "face0.png", "face0_gradcam.png", "face0_gradcampp.png", "kernels.png",
                "sobel_x.png", "sobel_y.png", "sobel_magnitude.png", "template.png", "template_similarity.png",
                "pooling.png", "activations.json", "index.html"}  # fmt: skip
    assert expected <= names and sum(n.startswith("features_") for n in names) == 8  # fastnet's 8 convolutions
    assert all(p.is_file() and p.stat().st_size > 0 for p in result.files)
    page = (tmp_path / "index.html").read_text()
    shown = set(re.findall(r'<img src="([^"]+)"', page))
    assert shown == {n for n in names if n.endswith(".png")}
    assert "happy" in page and "fastnet" in page


def test_the_full_image_heatmap_stays_on_the_face(analyzer):
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    face = analyzer.analyze(rgb)[0]
    heat = heat_in_image(face, np.ones((40, 40), np.float32), analyzer.model.preprocessing, rgb.shape[:2])
    assert heat.shape == (512, 512)
    x, y, w, h = face.box
    inside = np.zeros_like(heat, bool)
    inside[int(y - 0.3 * h) : int(y + 1.3 * h), int(x - 0.3 * w) : int(x + 1.3 * w)] = True  # crop margin, tilt
    assert heat[~inside].max() == 0 and heat[int(y + h / 2), int(x + w / 2)] == pytest.approx(1)


def test_cli_explain_and_its_errors(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "ferkit", "explain", *args], capture_output=True, text=True)

    done = run(str(EXAMPLE), "--out", str(tmp_path / "x"), "--class", "sad", "--layer", "features.9")
    assert done.returncode == 0, done.stderr
    assert "Grad-CAM explains sad" in done.stdout and (tmp_path / "x" / "index.html").is_file()
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 150), (120, 120, 120)).save(blank)
    none = run(str(blank), "--out", str(tmp_path / "y"))
    assert none.returncode == 0 and "0 face(s)" in none.stdout
    assert "No face was found" in (tmp_path / "y" / "index.html").read_text()
    for args, words in ((["--layer", "nope"], "features.9"), (["--class", "joy"], "happy"), ([], "no such file")):
        image = str(EXAMPLE) if args else str(tmp_path / "missing.jpg")
        bad = run(image, "--out", str(tmp_path / "z"), *args)
        assert bad.returncode == 2 and words in bad.stderr and "Traceback" not in bad.stderr

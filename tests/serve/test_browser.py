"""End to end in a real browser: `ferkit serve` in a subprocess, Debian's chromium driven by Playwright, an image
uploaded through the page, boxes and labels checked on screen. A screenshot is kept as a test artifact.

Locally the test skips when chromium or Playwright is missing; under CI (CI set) it fails instead, since .ci/run
installs both."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "astronaut.jpg"
ARTIFACTS = Path(os.environ.get("FERKIT_ARTIFACTS", ROOT / "artifacts"))


def need(thing: str):
    if os.environ.get("CI"):
        pytest.fail(f"{thing} is missing; .ci/run should have installed it")
    pytest.skip(f"{thing} is not installed")


@pytest.fixture(scope="module")
def chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        need("chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("playwright (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--headless", "--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "ferkit", "serve", "--port", str(port), "--workers", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"ferkit serve exited: {process.stderr.read().decode()}")
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("ferkit serve did not answer /healthz within 90 s")
    yield url
    process.terminate()
    process.wait(10)


def test_upload_in_the_page_draws_boxes_and_labels(chromium, server, tmp_path):
    page = chromium.new_page()
    page.goto(server)
    page.wait_for_function("document.getElementById('model').textContent.includes('fastnet')")
    page.set_input_files("#file", str(EXAMPLE))
    page.wait_for_selector("#faces li.face", timeout=30_000)
    labels = page.locator("#faces li.face strong.label").all_inner_texts()
    assert labels and labels[0].startswith("happy")
    result = json.loads(page.inner_text("#json"))
    assert result["faces"][0]["label"] == "happy" and result["model"] == "default"
    assert page.eval_on_selector("#view", "c => [c.width, c.height]") == [512, 512]
    x, y, w, h = result["faces"][0]["box"]
    pixel = page.eval_on_selector(
        "#view", f"c => Array.from(c.getContext('2d').getImageData({round(x)}, {round(y + h / 2)}, 1, 1).data)"
    )
    assert sum(abs(a - b) for a, b in zip(pixel, (255, 193, 7))) < 80  # the box's edge, in "happy" (anti-aliased)
    assert "face" in page.inner_text("#status")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-upload.png"), full_page=True)

    centre = f"c => Array.from(c.getContext('2d').getImageData({round(x + w / 2)}, {round(y + h / 2)}, 1, 1).data)"
    before = page.eval_on_selector("#view", centre)
    page.check("#gradcam")  # the toggle fetches the heatmap overlay for the same image
    page.wait_for_function(
        f"(before) => {{ const d = document.getElementById('view').getContext('2d')"
        f".getImageData({round(x + w / 2)}, {round(y + h / 2)}, 1, 1).data;"
        f" return Math.abs(d[0] - before[0]) + Math.abs(d[1] - before[1]) + Math.abs(d[2] - before[2]) > 30; }}",
        arg=before,
        timeout=30_000,
    )
    page.screenshot(path=str(ARTIFACTS / "browser-gradcam.png"), full_page=True)
    page.uncheck("#gradcam")

    bad = tmp_path / "notes.png"  # an extension that lies
    bad.write_text("not a picture")
    page.set_input_files("#file", str(bad))
    page.wait_for_selector("#status.error")
    assert "not an image" in page.inner_text("#status")
    page.close()


def test_api_docs_render_offline(chromium, server):
    page = chromium.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server) else route.abort())
    page.goto(server + "docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)  # rendered from ferkit's own copy
    assert "ferkit API" in page.title() or "ferkit" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock-summary-path", has_text="/v1/analyze").count() >= 1
    page.close()


def test_a_video_upload_draws_its_timeline(chromium, server):
    clip = ROOT.parent / "shared/datasets/videos/pyfeat_single_face.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is not present")
    page = chromium.new_page()
    page.goto(server)
    page.set_input_files("#video-file", str(clip))
    page.wait_for_selector("#timeline-view:not([hidden])", timeout=120_000)
    summary = page.inner_text("#timeline-summary")
    assert "72 frames analysed, 1 face track(s)" in summary and "track 0: mostly" in summary
    # the panel is drawn: some pixels inside it are neither white nor the frame's grey
    coloured = page.eval_on_selector(
        "#timeline",
        """c => { const d = c.getContext('2d')
        .getImageData(70, 10, c.width - 80, 110).data; let n = 0;
        for (let i = 0; i < d.length; i += 4)
          if (Math.max(d[i], d[i+1], d[i+2]) - Math.min(d[i], d[i+1], d[i+2]) > 60) n++;
        return n; }""",
    )
    assert coloured > 200
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-video.png"), full_page=True)
    page.close()


def test_a_job_report_renders_offline(chromium, tmp_path):
    """`ferkit report` on a real job: the page opens with every outside request refused and its pictures load."""
    sources = [str(EXAMPLE), str(ROOT.parent / "shared/datasets/videos/faceapi_video.mp4"), str(tmp_path / "gone.jpg")]
    job = subprocess.run([sys.executable, "-m", "ferkit", "predict", *sources, "--json", str(tmp_path / "out.jsonl")],
                         capture_output=True, text=True)  # fmt: skip
    assert job.returncode == 1  # gone.jpg does not exist: reported, and the rest goes on
    made = subprocess.run([sys.executable, "-m", "ferkit", "report", str(tmp_path / "out.jsonl")],
                          capture_output=True, text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    page = chromium.new_page()
    outside = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else (outside.append(route.request.url), route.abort()))  # fmt: skip
    page.goto((tmp_path / "out_report/index.html").as_uri())
    loaded = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
    assert loaded and all(loaded) and not outside
    text = page.inner_text("body")
    assert "3 sources (2 photos, 1 video)" in text and "gone.jpg" in text and "Failures" in text
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.close()

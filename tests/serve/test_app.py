import asyncio
import contextlib
import io
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ferkit.infer import Analyzer
from ferkit.serve import ServeSettings, create_app
from ferkit.serve.pool import AnalyzerPool, Busy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "astronaut.jpg"


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer("fast")


@pytest.fixture(scope="module")
def client(analyzer):
    settings = ServeSettings(max_upload_bytes=200_000, max_pixels=2_000_000, max_video_seconds=3, workers=2)
    with TestClient(create_app(analyzer, settings)) as c:
        yield c


def png_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def clip(path: Path, frames: int, fps: float = 5.0) -> bytes:
    """A small MP4 of the example photo drifting right, `frames` long."""
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB").resize((256, 256)))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (256, 256))
    for i in range(frames):
        writer.write(cv2.cvtColor(np.roll(rgb, i, axis=1), cv2.COLOR_RGB2BGR))
    writer.release()
    return path.read_bytes()


def assert_error(response, status: int, *words: str):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and isinstance(body["error"], str)
    for word in words:
        assert word in body["error"], body["error"]


def test_health_models_docs_and_page(client):
    assert client.get("/healthz").json() == {"status": "ok", "model": "fast", "workers": 2}
    model = client.get("/v1/models").json()["models"][0]
    assert model["name"] == "fast" and model["arch"] == "fastnet" and len(model["classes"]) == 7
    assert model["parameters"] > 0 and 0 < model["metrics"]["val_accuracy"] < 1 and "path" not in model["data"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert "://" not in "".join(line for line in docs.text.splitlines() if "src=" in line or "href=" in line)
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert client.get(f"/static-offline-docs/{asset}").status_code == 200
    assert client.get("/redoc").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/analyze", "/v1/analyze-video", "/v1/models", "/healthz"} <= set(paths)
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text and "http" not in page.text.split("<footer")[0]
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200


def test_analyze_multipart_and_raw_body_give_the_analyzers_faces(client, analyzer):
    expected = [f.to_dict() for f in analyzer.analyze(EXAMPLE)]
    data = EXAMPLE.read_bytes()
    multipart = client.post("/v1/analyze", files={"file": ("astronaut.jpg", data, "image/jpeg")})
    raw = client.post("/v1/analyze", content=data, headers={"Content-Type": "image/jpeg"})
    for response in (multipart, raw):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["faces"] == expected and body["model"] == "fast" and body["ms"] > 0
        assert (body["width"], body["height"]) == (512, 512)
    assert expected[0]["label"] == "happy"


def test_annotated_png_and_no_face(client):
    response = client.post("/v1/analyze?annotate=true", content=EXAMPLE.read_bytes())
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (512, 512) and int(response.headers["x-faces"]) >= 1
    blank = client.post("/v1/analyze", content=png_bytes(np.full((120, 160, 3), 128, np.uint8)))
    assert blank.status_code == 200 and blank.json()["faces"] == []


def test_upload_limits_are_413(client):
    big = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)  # noise: ~480 KB as PNG
    assert_error(client.post("/v1/analyze", content=png_bytes(big)), 413, "limit", "MB")

    def chunks():  # no Content-Length: the limit must hold while streaming too
        data = png_bytes(big)
        for i in range(0, len(data), 32_768):
            yield data[i : i + 32_768]

    assert_error(client.post("/v1/analyze", content=chunks()), 413, "limit")
    wide = png_bytes(np.zeros((1000, 2500, 3), np.uint8))  # small file, 2.5 M pixels
    assert len(wide) < 200_000
    assert_error(client.post("/v1/analyze", content=wide), 413, "2500x1000", "2,000,000")


def test_not_an_image_is_415_and_malformed_requests_are_400_or_422(client):
    assert_error(client.post("/v1/analyze", content=b"hello, not a picture"), 415, "not an image", "JPEG")
    truncated = EXAMPLE.read_bytes()[:2000]
    assert client.post("/v1/analyze", content=truncated).status_code in (200, 415)  # PIL may decode a prefix
    assert_error(client.post("/v1/analyze", content=b""), 400, "empty")
    assert_error(client.post("/v1/analyze", files={"note": (None, "no file")}), 400, "no file field")
    form = client.post("/v1/analyze", data={"note": "x"}, files={"other": ("a.txt", b"", "text/plain")})
    assert_error(form, 400, "empty")
    broken = client.post("/v1/analyze", content=b"--xyz\r\nnonsense",
                         headers={"Content-Type": "multipart/form-data; boundary=xyz"})  # fmt: skip
    assert broken.status_code == 400 and broken.json()["status"] == 400
    assert_error(client.post("/v1/analyze?annotate=maybe", content=EXAMPLE.read_bytes()), 422, "annotate")
    assert_error(client.post("/v1/analyze-video?stride=0", content=b"x"), 422, "stride")
    assert_error(client.get("/v1/nothing"), 404)
    assert_error(client.get("/v1/analyze"), 405)


def test_video_frames_limits_and_non_videos(client, tmp_path):
    response = client.post("/v1/analyze-video?stride=2", content=clip(tmp_path / "a.mp4", 10))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [f["frame"] for f in body["frames"]] == [0, 2, 4, 6, 8] and body["fps"] == pytest.approx(5)
    assert all(len(f["faces"]) >= 1 for f in body["frames"]) and body["frames"][1]["time"] == pytest.approx(0.4)
    assert {f["faces"][0]["track"] for f in body["frames"]} == {0}
    assert_error(client.post("/v1/analyze-video", content=clip(tmp_path / "long.mp4", 25)), 413, "5.0 s", "3 s")
    assert_error(client.post("/v1/analyze-video", content=b"\x00" * 5000), 415, "video")


def test_cors_only_when_configured(analyzer):
    origin = {"Origin": "https://example.org"}
    with TestClient(create_app(analyzer, ServeSettings(workers=1))) as plain:
        assert "access-control-allow-origin" not in plain.get("/healthz", headers=origin).headers
    with TestClient(create_app(analyzer, ServeSettings(workers=1, cors_origins=["https://example.org"]))) as open_:
        assert open_.get("/healthz", headers=origin).headers["access-control-allow-origin"] == "https://example.org"


def test_pool_is_bounded_and_concurrent_results_equal_sequential_ones(analyzer):
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    expected = [f.to_dict() for f in analyzer.analyze(rgb)]

    async def many():
        pool = AnalyzerPool(analyzer, workers=2, max_waiting=16)
        results = await asyncio.gather(*(pool.run(lambda a, x: a.analyze(x), rgb) for _ in range(8)))
        pool.close()
        return results

    for faces in asyncio.run(many()):
        assert [f.to_dict() for f in faces] == expected

    release = threading.Event()

    async def overload():
        pool = AnalyzerPool(analyzer, workers=1, max_waiting=1)
        first = asyncio.ensure_future(pool.run(lambda a: release.wait(10)))
        second = asyncio.ensure_future(pool.run(lambda a: True))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await pool.run(lambda a: True)
        release.set()
        assert await first and await second
        pool.close()

    asyncio.run(overload())


def test_busy_is_503_with_retry_after(analyzer):
    app = create_app(analyzer, ServeSettings(workers=1))

    @contextlib.contextmanager
    def always_busy():
        raise Busy("2 requests are in progress or waiting; retry in a moment")
        yield

    app.state.pool.admit = always_busy
    with TestClient(app) as c:
        response = c.post("/v1/analyze", content=EXAMPLE.read_bytes())
    assert_error(response, 503, "retry")
    assert response.headers["retry-after"] == "1"


def _nasty_inputs() -> dict[str, bytes]:
    png = png_bytes(np.zeros((40, 40, 3), np.uint8))
    cmyk, gray16, gif = io.BytesIO(), io.BytesIO(), io.BytesIO()
    Image.new("CMYK", (64, 64), (0, 50, 100, 0)).save(cmyk, format="JPEG")
    Image.fromarray(np.full((50, 50), 40000, np.uint16)).save(gray16, format="PNG")
    frames = [Image.new("P", (30, 30), i) for i in range(3)]
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    return {
        "truncated png": png[: len(png) // 2],
        "png header only": png[:33],
        "random bytes": np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "one byte": b"\xff",
        "cmyk jpeg": cmyk.getvalue(),
        "16-bit gray png": gray16.getvalue(),
        "animated gif": gif.getvalue(),
        "1x1 png": png_bytes(np.zeros((1, 1, 3), np.uint8)),
    }


@pytest.mark.parametrize("name", list(_nasty_inputs()))
def test_no_input_crashes_the_server(client, name):
    response = client.post("/v1/analyze", content=_nasty_inputs()[name])
    assert response.status_code in (200, 400, 413, 415), response.text
    assert "faces" in response.json() or "error" in response.json()
    assert client.get("/healthz").status_code == 200


def test_an_unexpected_failure_is_a_json_500_and_the_server_goes_on(analyzer):
    app = create_app(analyzer, ServeSettings(workers=1))

    async def broken(job, *args):
        raise RuntimeError("boom")

    real = app.state.pool.execute
    app.state.pool.execute = broken
    with TestClient(app, raise_server_exceptions=False) as c:
        assert_error(c.post("/v1/analyze", content=EXAMPLE.read_bytes()), 500, "internal error")
        app.state.pool.execute = real
        assert c.post("/v1/analyze", content=EXAMPLE.read_bytes()).status_code == 200


def test_explain_returns_the_image_with_heatmaps_on_the_faces(client):
    data = EXAMPLE.read_bytes()
    response = client.post("/v1/explain", content=data)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert int(response.headers["x-faces"]) >= 1
    overlay = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB")).astype(int)
    original = np.asarray(Image.open(EXAMPLE).convert("RGB")).astype(int)
    assert overlay.shape == original.shape
    assert np.abs(overlay[100:140, 200:240] - original[100:140, 200:240]).mean() > 10  # the face: coloured
    assert np.abs(overlay[450:, :60] - original[450:, :60]).max() <= 1  # far from any face: untouched
    sad = client.post("/v1/explain?class=sad&method=gradcam%2B%2B", content=data)
    assert sad.status_code == 200 and sad.content != response.content
    assert_error(client.post("/v1/explain?class=joy", content=data), 422, "happy")
    assert_error(client.post("/v1/explain?method=saliency", content=data), 422, "method")


def test_a_rejected_request_is_answered_before_its_upload_is_read(analyzer):
    """Under overload a 503 must cost next to nothing: the body is never received, let alone decoded."""
    app = create_app(analyzer, ServeSettings(workers=1, max_waiting=0, busy_delay=0))
    received, sent = [], []

    async def receive():
        received.append(True)
        return {"type": "http.request", "body": EXAMPLE.read_bytes(), "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/analyze", "raw_path": b"/v1/analyze", "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"image/jpeg")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80)}  # fmt: skip

    async def while_full():
        with app.state.pool.admit():  # the only place is taken
            await app(scope, receive, send)

    asyncio.run(while_full())
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 503 and (b"retry-after", b"1") in start["headers"]
    assert not received
    app.state.pool.close()


def test_min_score_per_request_and_the_servers_default(client):
    data = EXAMPLE.read_bytes()
    assert len(client.post("/v1/analyze", content=data).json()["faces"]) == 1
    assert client.post("/v1/analyze?min_score=1", content=data).json()["faces"] == []  # no score reaches 1
    assert_error(client.post("/v1/analyze?min_score=2", content=data), 422, "min_score")
    assert client.get("/v1/models").json()["models"][0]["min_score"] == 0.95

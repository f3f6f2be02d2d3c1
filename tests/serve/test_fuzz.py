"""Property-based: whatever bytes a client uploads (analyze, explain, analyze-video), the API answers with faces
or a 4xx JSON error, never a 5xx."""

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings

from ferkit.infer import Analyzer
from ferkit.serve import ServeSettings, create_app
from tests.fuzz import mutated, odd_image_files

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PIL's notes on the corrupt files it reads


@pytest.fixture(scope="module")
def client():
    settings = ServeSettings(max_upload_bytes=2_000_000, max_pixels=2_000_000, max_video_seconds=3, workers=1)
    with TestClient(create_app(Analyzer("fast"), settings)) as c:
        yield c


def assert_answered(response, ok_status=(200,)):
    assert response.status_code < 500, response.text
    if response.headers["content-type"] == "image/png":
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
        return
    body = response.json()
    if response.status_code in ok_status:
        assert "faces" in body or "frames" in body
    else:
        assert 400 <= response.status_code < 500 and body["error"] and body["status"] == response.status_code


@settings(max_examples=40, deadline=None)
@given(file=odd_image_files())
def test_any_valid_image_is_analysed(client, file):
    suffix, data = file
    response = client.post("/v1/analyze", files={"file": (f"upload{suffix}", data)})
    assert response.status_code == 200, response.text
    assert_answered(response)


@settings(max_examples=60, deadline=None)
@given(file=mutated())
def test_mutated_uploads_get_faces_or_a_4xx(client, file):
    suffix, data = file
    assert_answered(client.post("/v1/analyze", content=data))
    assert_answered(client.post("/v1/explain", content=data))
    if suffix in (".mp4", ".gif"):
        assert_answered(client.post("/v1/analyze-video", content=data))
    assert client.get("/healthz").status_code == 200

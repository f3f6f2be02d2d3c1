"""The HTTP service: decode the upload, hand it to the Analyzer pool, encode the answer. Every error is a JSON
body {"error": message, "status": code} with a message a person can act on."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from ferkit import __version__
from ferkit.errors import FerkitError
from ferkit.explain import explain_faces
from ferkit.infer.analyzer import Analyzer
from ferkit.infer.draw import draw_faces
from ferkit.infer.images import TooManyPixels, decode_rgb
from ferkit.infer.job import Outputs, PredictSettings, process_source
from ferkit.serve.pool import AnalyzerPool, Busy

MB = 1 << 20


@dataclass
class ServeSettings:
    max_upload_bytes: int = 10 * MB  # images
    max_pixels: int = 40_000_000  # width x height of an image
    max_video_bytes: int = 50 * MB
    max_video_seconds: float = 60.0
    workers: int = 2  # inference threads, each with its own detector
    max_waiting: int = 32  # requests queued beyond the workers before 503
    busy_delay: float = 0.2  # seconds a 503 is held before it is sent, pacing clients that retry at once
    cors_origins: list[str] = field(default_factory=list)  # none: browsers allow only same-origin pages


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refusing (413) as soon as it passes `limit` bytes, whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"{what} is {int(declared) / MB:.1f} MB; the limit is {limit / MB:g} MB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"{what} is larger than the limit of {limit / MB:g} MB")
        chunks.append(chunk)
    return b"".join(chunks)


async def upload(request: Request, limit: int, what: str) -> tuple[bytes, str]:
    """(bytes, name) of the uploaded file: a multipart form's first file, or the raw body."""
    body = await read_body(request, limit, what)
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        if not body:
            raise ApiError(400, f"empty request: send the {what} as the body or as a multipart file field")
        return body, "upload"

    async def replay():
        yield body

    try:
        form = await MultiPartParser(request.headers, replay(), max_files=1, max_fields=16).parse()
    except MultiPartException as exc:
        raise ApiError(400, f"malformed multipart form ({exc.message})") from None
    files = [v for _, v in form.multi_items() if hasattr(v, "read")]
    if not files:
        raise ApiError(400, f"the multipart form has no file field; add the {what} as e.g. 'file'")
    data = await files[0].read()
    await form.close()
    if not data:
        raise ApiError(400, f"the uploaded file {files[0].filename!r} is empty")
    return data, files[0].filename or "upload"


def decode_image(data: bytes, name: str, max_pixels: int) -> np.ndarray:
    try:
        return decode_rgb(io.BytesIO(data), name, max_pixels=max_pixels)
    except TooManyPixels as exc:
        raise ApiError(413, str(exc)) from None
    except FerkitError as exc:
        raise ApiError(415, f"{exc}; send a JPEG, PNG, WebP, GIF, BMP or TIFF image") from None


def model_summary(analyzer: Analyzer) -> dict:
    """What a client may want to know about the loaded model: its name, classes, input and measured quality."""
    model, meta = analyzer.model, getattr(analyzer.model, "meta", {})
    return {
        "name": analyzer.model_name,
        "arch": meta.get("arch"),
        "members": meta.get("members"),  # an ensemble's checkpoints; None for a single model
        "classes": list(model.classes),
        "parameters": sum(p.numel() for p in model.parameters()),
        "preprocessing": meta.get("preprocessing"),
        "metrics": meta.get("metrics"),
        "calibration": meta.get("calibration"),
        "data": {k: v for k, v in meta.get("data", {}).items() if k != "path"},
        "detector": analyzer.detector.name,
        "min_score": analyzer.min_score,
        "ferkit": __version__,
    }


# The jobs below run on the pool's threads, decoding included: a 40-megapixel JPEG takes long enough to decode
# that doing it on the event loop would stall every other request.


def _analyze(analyzer: Analyzer, data: bytes, name: str, max_pixels: int,
             min_score: float | None) -> tuple[list, tuple[int, int]]:  # fmt: skip
    rgb = decode_image(data, name, max_pixels)
    return analyzer.analyze(rgb, min_score), (int(rgb.shape[1]), int(rgb.shape[0]))


def _annotated_png(analyzer: Analyzer, data: bytes, name: str, max_pixels: int,
                   min_score: float | None) -> tuple[bytes, int]:  # fmt: skip
    rgb = decode_image(data, name, max_pixels)
    faces = analyzer.analyze(rgb, min_score)
    ok, png = cv2.imencode(".png", cv2.cvtColor(draw_faces(rgb, faces), cv2.COLOR_RGB2BGR))
    return png.tobytes(), len(faces)


def _gradcam_png(analyzer: Analyzer, data: bytes, name: str, max_pixels: int, class_name: str | None,
                 method: str) -> tuple[bytes, int]:  # fmt: skip
    result = explain_faces(analyzer, decode_image(data, name, max_pixels), class_name, methods=(method,))[0]
    ok, png = cv2.imencode(".png", cv2.cvtColor(result.overlay, cv2.COLOR_RGB2BGR))
    return png.tobytes(), len(result.faces)


def _analyze_clip(analyzer: Analyzer, data: bytes, stride: int, detect_every: int, max_seconds: float) -> dict:
    """Per-frame results of a short clip, through the predict job's own per-source step (decoded from a temporary
    file, since OpenCV reads from paths; the suffix only routes it as a video, OpenCV goes by the content)."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as tmp:
        tmp.write(data)
        tmp.flush()
        capture = cv2.VideoCapture(tmp.name)
        opened, fps = capture.isOpened(), capture.get(cv2.CAP_PROP_FPS) or 25.0
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        ok = opened and capture.read()[0]
        capture.release()
        if not ok:
            raise ApiError(415, "the upload is not a video OpenCV can decode; send an MP4, WebM, AVI or MOV clip")
        if count > 0 and count / fps > max_seconds:
            raise ApiError(413, f"the clip is {count / fps:.1f} s long; the limit is {max_seconds:g} s")
        settings = PredictSettings(stride=stride, detect_every=detect_every)
        frames = []
        for record in process_source(analyzer, tmp.name, settings, Outputs(), "clip.mp4"):
            if record["error"]:
                raise ApiError(415, f"the clip could not be read to the end ({record['error']})")
            if record["time"] > max_seconds:  # the container's frame count can lie; the decoded frames cannot
                raise ApiError(413, f"the clip is longer than the limit of {max_seconds:g} s")
            frames.append({k: record[k] for k in ("frame", "time", "faces")})
    return {"fps": round(fps, 3), "frames": frames}


def create_app(analyzer: Analyzer, settings: ServeSettings | None = None) -> FastAPI:
    """The FastAPI app around one loaded model; `ferkit serve` runs it with uvicorn."""
    settings = settings or ServeSettings()
    pool = AnalyzerPool(analyzer, settings.workers, settings.max_waiting)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        pool.close()

    # FastAPIOffline: FastAPI's /docs and /redoc pages load their scripts from a CDN; these serve bundled copies
    app = FastAPIOffline(title="ferkit", version=__version__, description="Facial expression recognition with CNNs.",
                         lifespan=lifespan)  # fmt: skip
    app.state.pool, app.state.settings = pool, settings
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["*"])  # fmt: skip

    @app.exception_handler(ApiError)
    async def _api_error(request, exc: ApiError):
        return error_response(exc.status, exc.message)

    @app.exception_handler(Busy)
    async def _busy(request, exc: Busy):
        # Clients that retry at once would keep the event loop (and the GIL the workers need) busy with
        # rejections; holding each rejection a moment costs no CPU and paces them.
        await asyncio.sleep(settings.busy_delay)
        response = error_response(503, str(exc))
        response.headers["Retry-After"] = "1"
        response.headers["Connection"] = "close"  # the unread upload is not drained; the client reconnects
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_response(422, f"invalid request: {problems}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request, exc: StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _bug(request, exc: Exception):  # a bug, not the client's fault: say so, keep serving
        logging.getLogger("ferkit.serve").exception("unexpected error on %s", request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); please report it with the input")

    @app.get("/healthz", summary="liveness: the model is loaded and the workers are ready")
    async def healthz():
        return {"status": "ok", "model": analyzer.model_name, "workers": settings.workers}

    @app.get("/v1/models", summary="the loaded model's card summary")
    async def models():
        return {"models": [model_summary(analyzer)]}

    @app.post(
        "/v1/analyze",
        summary="faces and expression probabilities in one image (multipart file or raw body)",
        responses={200: {"content": {"image/png": {}}, "description": "JSON, or a PNG with annotate=true"}},
    )
    async def analyze(
        request: Request,
        annotate: bool = Query(False, description="return the annotated PNG"),
        min_score: float | None = Query(
            None, ge=0, le=1, description="drop detections scoring less (default: the server's --min-score)"
        ),  # fmt: skip
    ):
        started = time.perf_counter()
        with pool.admit():  # before the upload is read: a rejected request costs next to nothing
            data, name = await upload(request, settings.max_upload_bytes, "the image")
            if annotate:
                png, n = await pool.execute(_annotated_png, data, name, settings.max_pixels, min_score)
                return Response(png, media_type="image/png", headers={"X-Faces": str(n)})
            faces, (width, height) = await pool.execute(_analyze, data, name, settings.max_pixels, min_score)
        return {
            "faces": [f.to_dict() for f in faces],
            "model": analyzer.model_name,
            "width": width,
            "height": height,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }

    @app.post(
        "/v1/explain",
        summary="the image with each face's Grad-CAM heatmap laid over it, as PNG",
        responses={200: {"content": {"image/png": {}}}},
    )
    async def explain(
        request: Request,
        class_name: str | None = Query(None, alias="class", description="explain this class, not the prediction"),
        method: Literal["gradcam", "gradcam++"] = Query("gradcam"),
    ):
        classes = list(analyzer.model.classes)
        if class_name is not None and class_name not in classes:
            raise ApiError(422, f"class {class_name!r} is not one of the model's classes: {', '.join(classes)}")
        with pool.admit():
            data, name = await upload(request, settings.max_upload_bytes, "the image")
            png, n = await pool.execute(_gradcam_png, data, name, settings.max_pixels, class_name, method)
        return Response(png, media_type="image/png", headers={"X-Faces": str(n)})

    @app.post("/v1/analyze-video", summary="per-frame faces and expressions in a short clip")
    async def analyze_video(
        request: Request,
        stride: int = Query(1, ge=1, le=1000, description="analyse every n-th frame"),
        detect_every: int = Query(1, ge=1, le=100, description="run the face detector on every n-th analysed frame"),
    ):
        started = time.perf_counter()
        with pool.admit():
            data, _ = await upload(request, settings.max_video_bytes, "the video")
            result = await pool.execute(_analyze_clip, data, stride, detect_every, settings.max_video_seconds)
        return {**result, "model": analyzer.model_name, "ms": round((time.perf_counter() - started) * 1000, 1)}

    static = Path(str(resources.files("ferkit.serve") / "static"))

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(static / "index.html")

    app.mount("/static", StaticFiles(directory=static), name="static")
    return app

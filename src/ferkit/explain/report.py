"""`ferkit explain`: everything in this package run on one image and written as PNGs plus an index.html that
shows them together. Faces are found, aligned and preprocessed exactly as `ferkit predict` does."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from ferkit.explain.cam import METHODS, grad_cam
from ferkit.explain.filters import pool_pair, sobel, template_similarity
from ferkit.explain.maps import activation_stats, feature_maps, first_kernels, tile_grid
from ferkit.faces.align import align, alignment
from ferkit.faces.detect import Detection
from ferkit.fileio import atomic_path, atomic_write_text
from ferkit.infer.analyzer import Analyzer
from ferkit.infer.draw import draw_faces
from ferkit.infer.images import shrink_to, to_rgb
from ferkit.infer.result import Face
from ferkit.preprocess import center_crop, normalize, to_uint8_tensor, to_unit

MIN_FILTER_SIDE = 16  # pixels a side the Sobel, template and pooling pictures need
FILTER_SIDE = 512  # the classic filters run on the image scaled to this longest side, so pictures stay readable
FACE_VIEW = 192  # pixels a side for pictures of the model's input


@dataclass
class Explanation:
    faces: list[Face]
    targets: list[str]  # the class each heatmap explains
    heatmaps: dict[str, np.ndarray] = field(default_factory=dict)  # method -> (N, S, S) in [0, 1], the input's size
    overlay: np.ndarray | None = None  # (H, W, 3) the full image with Grad-CAM laid over every face (no boxes)
    files: list[Path] = field(default_factory=list)
    layer: str = "forward_features"  # the feature map Grad-CAM used (for an ensemble: the mean over its members)


def write_png(path: Path, image: np.ndarray) -> Path:
    """An RGB (H, W, 3) or gray (H, W) uint8 image, or a float one in [0, 1], written atomically."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, data = cv2.imencode(".png", bgr)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())
    return path


def colourize(values: np.ndarray, colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """(H, W) floats in [0, 1] -> (H, W, 3) uint8 RGB."""
    grey = (np.clip(values, 0, 1) * 255).round().astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(grey, colormap), cv2.COLOR_BGR2RGB)


def diverging(values: np.ndarray) -> np.ndarray:
    """(H, W) floats in [0, 1] with 0.5 meaning zero -> RGB: blue below, white at, red above."""
    v = np.clip(values, 0, 1)[..., None] * 2 - 1  # (H, W, 1) in [-1, 1]
    white, blue, red = np.array([255, 255, 255.0]), np.array([40, 80, 200.0]), np.array([200, 40, 40.0])
    rgb = np.where(v < 0, white + (blue - white) * -v, white + (red - white) * v)
    return rgb.round().astype(np.uint8)


def blend(rgb: np.ndarray, heat: np.ndarray, strength: float = 0.6) -> np.ndarray:
    """The heatmap's colours over the image, more opaque where the heat is higher; untouched where it is 0."""
    alpha = (strength * np.clip(heat, 0, 1))[..., None]  # (H, W, 1)
    return (rgb * (1 - alpha) + colourize(heat) * alpha).round().astype(np.uint8)


def model_inputs(analyzer: Analyzer, rgb: np.ndarray, faces: list[Face]) -> tuple[torch.Tensor, np.ndarray]:
    """(network inputs (N, C, S, S), what they look like as (N, S, S) floats in [0, 1]) for the faces, through the
    same alignment and preprocessing as prediction."""
    prep = analyzer.model.preprocessing
    crops = np.stack([align(rgb, _detection(f), prep.size) for f in faces])  # (N, size, size, 3)
    pixels = to_uint8_tensor(crops)  # (N, C, size, size)
    view = center_crop(to_unit(pixels, prep), prep.crop).mean(1)  # (N, S, S)
    return normalize(pixels, prep), view.numpy()


def _detection(face: Face) -> Detection:
    """The detection a Face came from (alignment works on detections)."""
    landmarks = None if face.landmarks is None else np.asarray(face.landmarks, dtype=np.float64)
    return Detection(tuple(face.box), face.score, landmarks)


def heat_in_image(face: Face, heat: np.ndarray, prep, shape: tuple[int, int]) -> np.ndarray:
    """A face's heatmap (S, S), in the model input's pixels, carried back into the full image's (H, W) pixels by
    undoing the centre crop, the resize and the alignment's rotation."""
    matrix, side = alignment(_detection(face))
    full = np.zeros((prep.size, prep.size), np.float32)  # the aligned face before the centre crop
    offset = (prep.size - heat.shape[0]) // 2
    full[offset : offset + heat.shape[0], offset : offset + heat.shape[1]] = heat
    square = cv2.resize(full, (max(1, round(side)), max(1, round(side))), interpolation=cv2.INTER_LINEAR)
    back = cv2.invertAffineTransform(matrix)
    return cv2.warpAffine(square, back, (shape[1], shape[0]), flags=cv2.INTER_LINEAR, borderValue=0)


def explain_faces(
    analyzer: Analyzer, image, class_name: str | None = None, layer: str | None = None, methods=METHODS
) -> tuple[Explanation, np.ndarray, np.ndarray, torch.Tensor]:
    """Grad-CAM (each method) for every face in `image`; returns the explanation, the RGB image, the model's views of
    the faces (N, S, S) and their network inputs."""
    rgb = to_rgb(image)
    faces = analyzer.analyze(rgb)
    model = analyzer.model
    classes = list(model.classes)
    if class_name is not None and class_name not in classes:
        raise ValueError(f"--class {class_name!r} is not one of the model's classes: {', '.join(classes)}")
    result = Explanation(faces, [])
    if not faces:
        result.overlay = rgb
        return result, rgb, np.zeros((0, 1, 1), np.float32), torch.zeros(0)
    x, views = model_inputs(analyzer, rgb, faces)
    target = None if class_name is None else classes.index(class_name)
    for method in methods:
        cam = grad_cam(model, x, target, method=method, layer=layer)
        result.heatmaps[method] = cam.heatmaps
        result.targets = [classes[t] for t in cam.targets]
        result.layer = cam.layer
    heat = np.zeros(rgb.shape[:2], np.float32)
    for face, h in zip(faces, result.heatmaps[methods[0]]):
        heat = np.maximum(heat, heat_in_image(face, h, model.preprocessing, rgb.shape[:2]))
    result.overlay = blend(rgb, heat)
    return result, rgb, views, x


def explain(image, out: str | Path, model="default", detector: str = "mtcnn", layer: str | None = None,
            class_name: str | None = None, analyzer: Analyzer | None = None) -> Explanation:  # fmt: skip
    """Write every picture of this package for `image` into `out`, with an index.html; return what was computed."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    analyzer = analyzer or Analyzer(model, detector)
    result, rgb, views, x = explain_faces(analyzer, image, class_name, layer)
    sections = [_section_cam(result, rgb, views, out)]
    if result.faces:
        sections += _sections_layers(analyzer.model, x[:1], views[0], out, result)
    sections += _sections_filters(rgb, result.faces, views, out, result)
    page = _page(image, analyzer, result, sections)
    atomic_write_text(out / "index.html", page)
    result.files.append(out / "index.html")
    return result


def _section_cam(result: Explanation, rgb: np.ndarray, views: np.ndarray, out: Path) -> str:
    if not result.faces:
        result.files.append(write_png(out / "image.png", rgb))
        return _figure("No face was found in this image, so there is nothing for Grad-CAM to explain.", ["image.png"])
    result.files.append(write_png(out / "gradcam_image.png", draw_faces(result.overlay, result.faces)))
    names = ["gradcam_image.png"]
    for i in range(len(result.faces)):
        face_view = cv2.resize(views[i], (FACE_VIEW, FACE_VIEW), interpolation=cv2.INTER_NEAREST)
        rgb_view = np.repeat((face_view * 255).round().astype(np.uint8)[..., None], 3, axis=2)
        result.files.append(write_png(out / f"face{i}.png", rgb_view))
        names.append(f"face{i}.png")
        for method, maps in result.heatmaps.items():
            heat = cv2.resize(maps[i], (FACE_VIEW, FACE_VIEW), interpolation=cv2.INTER_LINEAR)
            name = f"face{i}_{method.replace('++', 'pp')}.png"
            result.files.append(write_png(out / name, blend(rgb_view, heat, 0.5)))
            names.append(name)
    text = (
        "Grad-CAM: where the network's evidence for the class lies — the last feature map's channels weighted by the "
        "gradient of the class score, summed, positive part kept, scaled to the input. Per face: the model's own "
        f"input (aligned, gray, centre-cropped), Grad-CAM and Grad-CAM++ for {', '.join(sorted(set(result.targets)))}."
    )
    if "members" in result.layer:
        text += (
            f" This model is an ensemble ({result.layer}): it has no single feature map, so each heatmap is the mean "
            "of its members' heatmaps (each scaled to [0, 1]), every member explaining the class the ensemble chose."
        )
    return _figure(text, names)


def _sections_layers(model, x: torch.Tensor, view: np.ndarray, out: Path, result: Explanation) -> list[str]:
    maps = feature_maps(model, x)
    names = []
    for i, (layer, a) in enumerate(maps.items()):
        scale = max(1, 96 // a.shape[-1])
        name = f"features_{i:02d}_{layer.replace('.', '_')}.png"
        result.files.append(write_png(out / name, colourize(tile_grid(a, scale=scale), cv2.COLORMAP_VIRIDIS)))
        names.append(name)
    kernels = first_kernels(model)  # (out, in, k, k)
    grid = tile_grid(kernels.mean(1), scale=12, symmetric=True)
    result.files.append(write_png(out / "kernels.png", diverging(grid)))
    stats = activation_stats(maps)
    atomic_write_text(out / "activations.json", json.dumps(stats, indent=2))
    result.files.append(out / "activations.json")
    rows = "".join(
        f"<tr><td>{html.escape(s['layer'])}</td><td>{'×'.join(map(str, s['shape']))}</td><td>{s['mean']:.3f}</td>"
        f"<td>{s['std']:.3f}</td><td>{s['min']:.2f}</td><td>{s['max']:.2f}</td><td>{s['positive']:.0%}</td></tr>"
        for s in stats
    )
    table = ("<table><tr><th>layer</th><th>shape</th><th>mean</th><th>std</th><th>min</th><th>max</th>"
             f"<th>positive</th></tr>{rows}</table>")  # fmt: skip
    return [
        _figure(
            "Feature maps of every convolution for the first face (one tile per channel, each scaled to its own "
            "range; before batch norm and ReLU). Early layers respond to edges and blobs, late ones to parts.",
            names,
        ),  # fmt: skip
        _figure(
            f"The first layer's {len(kernels)} learned {kernels.shape[-1]}×{kernels.shape[-1]} kernels (blue "
            "negative, red positive, white zero): mostly edge and blob detectors, learned, not designed.",
            ["kernels.png"],
        )
        + f"<h3>Activation statistics</h3>{table}",  # fmt: skip
    ]


def _sections_filters(rgb: np.ndarray, faces: list[Face], views: np.ndarray, out: Path, result: Explanation) -> list:
    small, scale = shrink_to(rgb, FILTER_SIDE)
    if min(small.shape[:2]) < MIN_FILTER_SIDE:  # a strip or a speck: no 3x3 kernel or template fits
        return [_figure(f"The image is {rgb.shape[1]}×{rgb.shape[0]} pixels: too thin for the classic filters' "
                        f"pictures, which need at least {MIN_FILTER_SIDE} pixels a side.", [])]  # fmt: skip
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    gx, gy, mag = sobel(gray)
    bound = max(float(np.abs(gx).max()), float(np.abs(gy).max()), 1e-6)
    for name, values in (("sobel_x.png", 0.5 + gx / (2 * bound)), ("sobel_y.png", 0.5 + gy / (2 * bound)),
                         ("sobel_magnitude.png", mag / max(float(mag.max()), 1e-6))):  # fmt: skip
        result.files.append(write_png(out / name, values))
    top, left, size = _patch(faces, gray.shape, scale)
    similarity, (row, col) = template_similarity(gray, top, left, size)
    marked = small.copy()
    cv2.rectangle(marked, (left, top), (left + size, top + size), (0, 200, 0), 2)
    cv2.rectangle(marked, (col, row), (col + size, row + size), (230, 0, 0), 1)
    result.files.append(write_png(out / "template.png", marked))
    span = float(similarity.max() - similarity.min()) or 1.0
    result.files.append(write_png(out / "template_similarity.png",
                                  colourize((similarity - similarity.min()) / span, cv2.COLORMAP_VIRIDIS)))  # fmt: skip
    face_gray = views[0] if len(views) else gray
    fmag = sobel(face_gray)[2]
    fmag = fmag / max(float(fmag.max()), 1e-6)
    size_px = 192
    maps = (fmag, *pool_pair(fmag))  # the map, its 2x2 max pooling, its 2x2 average pooling
    panels = [cv2.resize(a, (size_px, size_px), interpolation=cv2.INTER_NEAREST) for a in maps]
    gap = np.ones((size_px, 6), np.float32)
    result.files.append(write_png(out / "pooling.png", np.hstack([panels[0], gap, panels[1], gap, panels[2]])))
    return [
        _figure(
            "Sobel: one fixed convolution with two output channels — x (left-to-right change: vertical edges) and "
            "y (top-to-bottom change: horizontal edges), gray is zero — and the magnitude √(x² + y²).",
            ["sobel_x.png", "sobel_y.png", "sobel_magnitude.png"],
        ),  # fmt: skip
        _figure(
            f"A feature map as template similarity: the {size}×{size} patch in the green box slid over the image, "
            "the sum of products divided by the patch size at every position (raw pixels, as in the tutorials, so "
            "bright regions score high too); the red box marks the best match.",
            ["template.png", "template_similarity.png"],
        ),  # fmt: skip
        _figure(
            "Pooling a feature map (the Sobel magnitude of the model's view of the face): the map, 2×2 max pooling "
            "(keeps the strongest response in each window) and 2×2 average pooling (smooths), each half the side.",
            ["pooling.png"],
        ),  # fmt: skip
    ]


def _patch(faces: list[Face], shape: tuple[int, int], scale: float) -> tuple[int, int, int]:
    """(top, left, size) of a patch around the first face's left eye, else the image centre, in the scaled image."""
    h, w = shape
    if faces and faces[0].landmarks is not None:
        size = max(5, round(faces[0].box[2] * scale / 5))
        cx, cy = (v * scale for v in faces[0].landmarks[0])
    else:
        size = max(5, min(h, w) // 10)
        cx, cy = w / 2, h / 2
    top = int(np.clip(round(cy - size / 2), 0, h - size))
    left = int(np.clip(round(cx - size / 2), 0, w - size))
    return top, left, size


def _figure(caption: str, images: list[str]) -> str:
    tags = "".join(f'<a href="{n}"><img src="{n}" alt="{html.escape(n)}"></a>' for n in images)
    return f"<figure>{tags}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _page(image, analyzer: Analyzer, result: Explanation, sections: list[str]) -> str:
    source = html.escape(str(image) if isinstance(image, str | Path) else "an image array")
    arch = getattr(analyzer.model, "meta", {}).get("arch", type(analyzer.model).__name__)
    faces = "; ".join(f"face {i}: {f.label} {f.probs[f.label]:.0%}" for i, f in enumerate(result.faces)) or "no face"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ferkit explain: {source}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 0 auto; padding: 1rem; color: #222; }}
figure {{ margin: 1.5rem 0; }} figure img {{ max-width: 100%; margin: 0 0.5rem 0.5rem 0; vertical-align: top;
image-rendering: pixelated; border: 1px solid #ddd; }} figcaption {{ color: #444; max-width: 60rem; }}
table {{ border-collapse: collapse; font-size: 0.85rem; }} td, th {{ border: 1px solid #ddd; padding: 0.2rem 0.5rem;
text-align: right; }} td:first-child {{ text-align: left; }}
</style></head><body>
<h1>What the CNN sees</h1>
<p>{source} — model <code>{html.escape(str(analyzer.model_name))}</code> ({html.escape(arch)}), detector
{analyzer.detector.name}; {html.escape(faces)}.</p>
{"".join(sections)}
</body></html>
"""

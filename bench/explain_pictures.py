"""Regenerate the pictures docs/explain.md shows: `ferkit explain` on the shipped example, once for each face's own
prediction and once with `--class sad`, the PNGs that page uses converted to JPEG (larger grids scaled to 512 px) so
the repository stays small. Run it whenever the model the page shows changes.

Run by hand (not a test):  python bench/explain_pictures.py [--model fast] [--image examples/astronaut.jpg]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image

from ferkit.explain import explain
from ferkit.fileio import atomic_path
from ferkit.infer import Analyzer

ROOT = Path(__file__).resolve().parents[1]
# the explain output files docs/explain.md shows, under the same names in docs/images/explain
PICTURES = (
    "gradcam_image", "face0", "face0_gradcam", "face0_gradcampp", "kernels", "features_00_features_0_0",
    "features_03_features_4_0", "features_07_features_10_0", "pooling", "sobel_x", "sobel_y", "sobel_magnitude",
    "template", "template_similarity")  # fmt: skip
OTHER_CLASS = {"face0_gradcam": "face0_gradcam_sad"}  # from the `--class sad` run
LONGEST_SIDE = 512
JPEG_QUALITY = 85


def to_jpeg(png: Path, jpeg: Path) -> None:
    """Convert one PNG, scaled down (never up) so its longest side is at most LONGEST_SIDE; written atomically."""
    image = Image.open(png).convert("RGB")
    scale = LONGEST_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    with atomic_path(jpeg) as tmp:
        image.save(tmp, "JPEG", quality=JPEG_QUALITY, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--image", type=Path, default=ROOT / "examples" / "astronaut.jpg")
    parser.add_argument("--other-class", default="sad", help="the class of the last Grad-CAM column")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "explain")
    args = parser.parse_args()
    analyzer = Analyzer(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        own, other = Path(tmp) / "own", Path(tmp) / "other"
        result = explain(args.image, own, analyzer=analyzer)
        if not result.faces:
            raise SystemExit(f"{args.image}: no face found, so there is nothing to picture")
        explain(args.image, other, class_name=args.other_class, analyzer=analyzer)
        for name in PICTURES:
            to_jpeg(own / f"{name}.png", args.out / f"{name}.jpg")
        for source, target in OTHER_CLASS.items():
            to_jpeg(other / f"{source}.png", args.out / f"{target}.jpg")
    face = result.faces[0]
    print(f"model {args.model}: face 0 {face.label} {face.probs[face.label]:.1%}; "
          f"{len(PICTURES) + len(OTHER_CLASS)} pictures in {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()

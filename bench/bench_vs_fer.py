"""ferkit against the `fer` package, side by side in one run: time per photo end to end (median, p90), recall on
hand-labelled faces, small faces in a large photo, and video frames per second.

Run by hand (not a test), with fer in a venv of its own:
    python3 -m venv ../fer-venv && ../fer-venv/bin/pip install --no-deps fer==25.10.3
    ../fer-venv/bin/pip install tensorflow-cpu==2.21.0 "opencv-contrib-python-headless<5" pillow requests tqdm
    python bench/bench_vs_fer.py --fer-python ../fer-venv/bin/python
Each system runs in its own process (bench/vs_fer_worker.py), one after the other, over the same decoded pixels.
Results recorded in docs/faces.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ferkit.faces.scoring import read_boxes, score_detections

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("vs_fer_worker.py")
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
# Photos of ../shared/datasets/photos at least 1,480 px wide: cut to 16:9 about their middle, scaled to 1920x1080.
WIDE_PHOTOS = ("facerec/obama-1080p.jpg", "dlib/bald_guys.jpg", "facerec/alex_lacamoire1.jpg",
               "facerec/obama_and_biden.jpg", "facerec/obama1.jpg")  # fmt: skip


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` cut about its middle to the aspect of width x height, then scaled to exactly that size."""
    h, w = image.shape[:2]
    if w * height > h * width:  # too wide: cut the sides
        keep = round(h * width / height)
        image = image[:, (w - keep) // 2 : (w - keep) // 2 + keep]
    else:
        keep = round(w * height / width)
        image = image[(h - keep) // 2 : (h - keep) // 2 + keep]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def small_faces(photos: Path, folder: Path) -> tuple[Path, list]:
    """A 1280x960 photo holding a 7-face group photo scaled down so its faces are 20-24 px, and their boxes."""
    name = "dlib/2008_004176.jpg"  # faces 37-44 px at full size
    truth = read_boxes(photos / "face_boxes_dlib_pascal.csv")[photos / name]
    group = cv2.imread(str(photos / name))
    scale = 0.55
    group = cv2.resize(group, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((960, 1280, 3), 110, np.uint8)
    top, left = 400, 500
    canvas[top : top + group.shape[0], left : left + group.shape[1]] = group
    path = folder / "small_faces_1280x960.png"
    cv2.imwrite(str(path), canvas)
    return path, [(left + x * scale, top + y * scale, w * scale, h * scale) for x, y, w, h in truth]


def make_inputs(photos: Path, videos: Path, folder: Path) -> dict:
    """The image sets and clips, written once as PNG / MP4 so both systems decode the same pixels."""
    all_photos = sorted(str(p) for p in photos.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    portrait = cv2.imread(str(ROOT / "examples" / "astronaut.jpg"))
    vga = folder / "one_face_640x480.png"
    cv2.imwrite(str(vga), fit(portrait, 640, 480))
    hd = []
    for name in WIDE_PHOTOS:
        hd.append(folder / f"1080p_{Path(name).stem}.png")
        cv2.imwrite(str(hd[-1]), fit(cv2.imread(str(photos / name)), 1920, 1080))
    small, small_truth = small_faces(photos, folder)
    clips = {}
    source = videos / "pyfeat_single_face.mp4"  # 640x360, one face, 72 frames
    if source.is_file():
        for label, (w, h) in (("640x480", (640, 480)), ("1080p", (1920, 1080))):
            clips[label] = folder / f"clip_{label}.mp4"
            write_clip(source, clips[label], w, h)
    return {"photos": all_photos, "640x480": [str(vga)], "1080p": [str(p) for p in hd], "small": [str(small)],
            "small_truth": small_truth, "clips": {k: str(v) for k, v in clips.items()}}  # fmt: skip


def write_clip(source: Path, target: Path, width: int, height: int) -> None:
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        writer.write(fit(frame, width, height))
    writer.release()


def run(python: str, job: dict) -> list[dict]:
    """The worker's JSON lines for `job`, run by `python` (the system's own interpreter)."""
    done = subprocess.run([python, str(WORKER)], input=json.dumps(job), capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)})  # fmt: skip
    if done.returncode:
        sys.exit(f"{job['system']} worker failed:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def centre_inside(box, truth) -> bool:
    """Whether the centre of `box` lies inside `truth` (both x, y, w, h): for faces of 20 px, where a one-pixel
    difference between labelling conventions moves IoU across 0.5."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return truth[0] <= cx <= truth[0] + truth[2] and truth[1] <= cy <= truth[1] + truth[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer-python", required=True, help="the python of a venv with fer installed")
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared/datasets/photos")
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared/datasets/videos")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per image (median taken)")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(args.photos, args.videos, Path(tmp))
        images = inputs["photos"] + inputs["640x480"] + inputs["1080p"] + inputs["small"]
        videos = [[path, every] for path in inputs["clips"].values() for every in (1, 3)]
        results = {}
        for system, python in (("fer", args.fer_python), ("ferkit", sys.executable)):
            job = {"system": system, "images": images, "videos": videos, "repeat": args.repeat,
                   "options": {"model": args.model}}  # fmt: skip
            results[system] = run(python, job)
        report(args, inputs, results)


def report(args, inputs: dict, results: dict) -> None:
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; ferkit model "
          f"{args.model}, MTCNN, min face 20, min score 0.95; fer 25.10.3 defaults; median of {args.repeat} "
          f"runs per image after one warm-up, images decoded before timing")  # fmt: skip
    by_image = {s: {r["image"]: r for r in rows if "image" in r} for s, rows in results.items()}
    print("\n| images | n | fer median ms | fer p90 ms | ferkit median ms | ferkit p90 ms | ferkit / fer |")
    print("|---|---|---|---|---|---|---|")
    for label in ("photos", "640x480", "1080p"):
        paths = inputs[label]
        fer = [by_image["fer"][p]["ms"] for p in paths]
        ours = [by_image["ferkit"][p]["ms"] for p in paths]
        row = [float(np.median(fer)), float(np.percentile(fer, 90)), float(np.median(ours)),
               float(np.percentile(ours, 90))]  # fmt: skip
        print(f"| {label} | {len(paths)} | " + " | ".join(f"{v:.1f}" for v in row) + f" | {row[2] / row[0]:.2f} |")
    truth = read_boxes(args.photos / "face_boxes_dlib_pascal.csv")
    print(
        "\n| system | recall @ IoU 0.5 (43 faces) | false detections per photo | faces of 20-24 px found: IoU >= 0.5 "
        "/ centre inside the labelled box |"
    )
    print("|---|---|---|---|")
    small = inputs["small"][0]
    for system in ("fer", "ferkit"):
        found = {p: by_image[system][str(p)]["boxes"] for p in truth}
        score = score_detections(truth, found)
        boxes = by_image[system][small]["boxes"]
        tiny = score_detections({"s": inputs["small_truth"]}, {"s": boxes})
        centred = sum(any(centre_inside(b, t) for b in boxes) for t in inputs["small_truth"])
        print(
            f"| {system} | {score['recall']:.1%} ({score['found']}/{score['faces']}) | "
            f"{score['false_per_image']:.2f} | {tiny['found']} / {centred} of 7 ({len(boxes)} detections) |"
        )
    rows = [(s, r) for s, rs in results.items() for r in rs if "video" in r]
    if rows:
        print("\n| clip | system | detect every | frames | frames/s |")
        print("|---|---|---|---|---|")
        for system, r in rows:
            if system == "fer" and r["every"] != 1:
                continue  # fer detects on every frame
            label = next(k for k, v in inputs["clips"].items() if v == r["video"])
            print(f"| {label} | {system} | {r['every']} | {r['frames']} | {r['fps']:.1f} |")


if __name__ == "__main__":
    main()

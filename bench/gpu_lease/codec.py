"""Lossless transport of FER2013's faces to a GPU machine that cannot read ../shared: each pixel's residual from
the MED (LOCO-I) predictor, xz-compressed — 48.5 MB for Training + PublicTest's 32,298 faces (74.4 MB raw, 0.65),
small enough to travel with the working tree. `pack` here, `unpack` there writes a fer2013.csv that ferkit reads.

  python bench/gpu_lease/codec.py pack ~/.cache/ferkit/datasets/fer2013-csv-<hash>.npz .gpu
  python bench/gpu_lease/codec.py unpack .gpu /tmp/fer2013/fer2013.csv
"""

import lzma
import sys
from pathlib import Path

import numpy as np


def _predict(im: np.ndarray) -> np.ndarray:
    a, b, c = np.zeros_like(im), np.zeros_like(im), np.zeros_like(im)  # left, upper, upper-left neighbours
    a[:, :, 1:] = im[:, :, :-1]
    b[:, 1:, :] = im[:, :-1, :]
    c[:, 1:, 1:] = im[:, :-1, :-1]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return np.where(c >= hi, lo, np.where(c <= lo, hi, a + b - c))


def encode(images: np.ndarray) -> bytes:
    im = images.astype(np.int16)
    return lzma.compress(((im - _predict(im)) % 256).astype(np.uint8).tobytes(), preset=9)


def decode(blob: bytes, n: int) -> np.ndarray:
    r = np.frombuffer(lzma.decompress(blob), np.uint8).reshape(n, 48, 48).astype(np.int16)
    im = np.zeros_like(r)
    # causal decode, one row then one column at a time: each pixel needs its left, upper and upper-left neighbours
    for y in range(48):
        for x in range(48):
            a = im[:, y, x - 1] if x else np.zeros(n, np.int16)
            b = im[:, y - 1, x] if y else np.zeros(n, np.int16)
            c = im[:, y - 1, x - 1] if x and y else np.zeros(n, np.int16)
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            p = np.where(c >= hi, lo, np.where(c <= lo, hi, a + b - c))
            im[:, y, x] = (r[:, y, x] + p) % 256
    return im.astype(np.uint8)


def write_csv(path: str, images: np.ndarray, labels: np.ndarray, splits: np.ndarray) -> None:
    with open(path, "w") as f:
        f.write("emotion,pixels,Usage\n")
        for im, lab, sp in zip(images, labels, splits):
            f.write(f"{int(lab)},{' '.join(map(str, im.ravel().tolist()))},{sp}\n")


if __name__ == "__main__":
    if sys.argv[1] == "pack":  # pack NPZ OUTDIR [N]
        z = np.load(sys.argv[2])
        n = int(sys.argv[4]) if len(sys.argv) > 4 else len(z["labels"])
        Path(f"{sys.argv[3]}/faces.xz").write_bytes(encode(z["images"][:n]))
        np.savez(f"{sys.argv[3]}/labels.npz", labels=z["labels"][:n], splits=z["splits"][:n])
    else:  # unpack INDIR CSV
        meta = np.load(f"{sys.argv[2]}/labels.npz")
        images = decode(Path(f"{sys.argv[2]}/faces.xz").read_bytes(), len(meta["labels"]))
        write_csv(sys.argv[3], images, meta["labels"], meta["splits"])

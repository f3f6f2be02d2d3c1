"""The CNN tutorials' hand-made filters, run on a real image with PyTorch's own convolution and pooling.

- Sobel: one fixed convolution with two output channels (horizontal and vertical change) and their magnitude.
- A feature map as template similarity: a patch cut from the image, slid over it, the sum of products divided
  by the patch size at every position (a convolution whose kernel is the patch, in PyTorch's cross-correlation
  sense); the highest value marks where the image looks most like the patch.
- Max and average pooling of a feature map, side by side.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

SOBEL = torch.tensor(
    [
        [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],  # x: left-to-right change (vertical edges)
        [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]],  # y: top-to-bottom change (horizontal edges)
    ]
).unsqueeze(1)  # (2 out, 1 in, 3, 3)


def _as_batch(gray: np.ndarray) -> torch.Tensor:
    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D gray image, not shape {gray.shape}")
    return torch.from_numpy(gray)[None, None]  # (1, 1, H, W)


def sobel(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gx, gy, magnitude), each (H - 2, W - 2): a valid convolution, no padding, so no edge is invented at the
    border."""
    out = F.conv2d(_as_batch(gray), SOBEL)[0]  # (2, H-2, W-2)
    gx, gy = out[0], out[1]
    return gx.numpy(), gy.numpy(), torch.sqrt(gx**2 + gy**2).numpy()


def template_similarity(gray: np.ndarray, top: int, left: int, size: int,
                        centred: bool = False) -> tuple[np.ndarray, tuple[int, int]]:  # fmt: skip
    """Slide the size x size patch at (top, left) over the image: the (H - size + 1, W - size + 1) map of the sum
    of products divided by the patch's pixel count, and the (row, column) of its best match. As in the tutorials,
    raw pixels favour bright regions; `centred` subtracts the image mean first so that only the pattern counts."""
    image = _as_batch(gray)
    h, w = image.shape[-2:]
    if not (size >= 1 and 0 <= top <= h - size and 0 <= left <= w - size):
        raise ValueError(f"a {size}-pixel patch at ({top}, {left}) does not fit in a {h}x{w} image")
    if centred:
        image = image - image.mean()
    patch = image[:, :, top : top + size, left : left + size]  # (1, 1, size, size): the kernel
    similarity = F.conv2d(image, patch)[0, 0] / patch.numel()  # (H - size + 1, W - size + 1)
    best = divmod(int(similarity.argmax()), similarity.shape[1])
    return similarity.numpy(), best


def pool_pair(feature_map: np.ndarray, size: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(max pooled, average pooled) with a size x size window and stride `size`."""
    x = _as_batch(feature_map)
    return F.max_pool2d(x, size)[0, 0].numpy(), F.avg_pool2d(x, size)[0, 0].numpy()

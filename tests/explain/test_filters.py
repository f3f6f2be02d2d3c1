import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ferkit.explain import pool_pair, sobel, template_similarity


def test_sobel_of_a_square_is_nonzero_only_on_its_edges():
    image = np.zeros((32, 32), np.float32)
    image[10:20, 12:24] = 1.0  # rows 10-19, columns 12-23
    gx, gy, mag = sobel(image)
    assert gx.shape == gy.shape == mag.shape == (30, 30)
    near_edge = np.zeros((32, 32), bool)
    near_edge[9:21, 11:25] = True
    near_edge[11:19, 13:23] = False  # the inside of the square, a pixel away from its border
    rows, cols = np.nonzero(mag)
    assert near_edge[rows + 1, cols + 1].all()  # output (r, c) is centred on input (r + 1, c + 1)
    assert mag[15, 15] == 0 and mag[0, 0] == 0
    assert np.abs(gx[13:17, 10]).min() > 0 and np.abs(gy[13:17, 10]).max() == 0  # left edge: vertical only
    assert np.abs(gy[8, 14:20]).min() > 0 and np.abs(gx[8, 14:20]).max() == 0  # top edge: horizontal only


def test_sobel_equals_a_two_channel_conv2d():
    image = np.random.default_rng(0).random((20, 17)).astype(np.float32)
    gx, gy, mag = sobel(image)
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    out = F.conv2d(torch.from_numpy(image)[None, None], torch.stack([kx, kx.T])[:, None])[0]
    assert np.allclose(gx, out[0].numpy()) and np.allclose(gy, out[1].numpy())
    assert np.allclose(mag, np.hypot(gx, gy), atol=1e-6)


def test_template_similarity_is_sum_of_products_over_size_and_finds_the_patch():
    rng = np.random.default_rng(1)
    image = np.zeros((30, 40), np.float32)
    image[5:12, 20:27] = rng.random((7, 7))
    similarity, best = template_similarity(image, 5, 20, 7)
    assert similarity.shape == (24, 34) and best == (5, 20)
    patch = image[5:12, 20:27]
    assert similarity[3, 4] == pytest.approx((image[3:10, 4:11] * patch).sum() / 49)
    with pytest.raises(ValueError, match="does not fit"):
        template_similarity(image, 25, 0, 7)


def test_max_and_average_pooling():
    fmap = np.arange(16, dtype=np.float32).reshape(4, 4)
    biggest, mean = pool_pair(fmap)
    assert np.array_equal(biggest, [[5, 7], [13, 15]]) and np.array_equal(mean, [[2.5, 4.5], [10.5, 12.5]])

import numpy as np
import pytest
import torch

from ferkit.explain import activation_stats, feature_maps, first_kernels, tile_grid
from ferkit.explain.maps import conv_layers
from ferkit.models import create_model, list_models, load_model


@pytest.mark.parametrize("name", list_models())
def test_feature_maps_of_every_convolution(name):
    model = create_model(name, num_classes=7, in_chans=1)
    maps = feature_maps(model, torch.randn(1, 1, 48, 48))
    convs = conv_layers(model)
    assert list(maps) == [n for n, _ in convs]
    for (_, conv), a in zip(convs, maps.values()):
        assert a.ndim == 3 and a.shape[0] == conv.out_channels
    stats = activation_stats(maps)
    assert [s["layer"] for s in stats] == list(maps) and all(0 <= s["positive"] <= 1 for s in stats)
    with pytest.raises(ValueError, match="one input"):
        feature_maps(model, torch.randn(2, 1, 48, 48))


def test_grids_have_one_tile_per_channel_each_scaled_to_its_range():
    tiles = np.stack([np.full((4, 5), float(i)) + np.eye(4, 5) * (i + 1) for i in range(7)])  # (7, 4, 5)
    grid = tile_grid(tiles, pad=1)
    assert grid.shape == (3 * 5 - 1, 3 * 6 - 1)  # 3 x 3 layout for 7 tiles
    cells = [grid[r * 5 : r * 5 + 4, c * 6 : c * 6 + 5] for r in range(3) for c in range(3)]
    for i in range(7):
        assert cells[i].min() == 0 and cells[i].max() == 1 and np.array_equal(cells[i] == 1, np.eye(4, 5) == 1)
    assert (cells[7] == 1).all() and (cells[8] == 1).all()  # unused cells stay blank
    assert tile_grid(tiles, columns=7).shape == (4, 7 * 6 - 1)
    assert tile_grid(tiles[:1], scale=3).shape == (12, 15)
    signed = tile_grid(np.array([[[-2.0, 0.0, 1.0]]]), symmetric=True)
    assert np.allclose(signed, [[0.0, 0.5, 0.75]])


def test_first_kernels_are_the_first_convolutions_weights():
    model = load_model("fast")
    kernels = first_kernels(model)
    assert kernels.shape == (32, 1, 3, 3)
    assert np.array_equal(kernels, model.features[0][0].weight.detach().numpy())

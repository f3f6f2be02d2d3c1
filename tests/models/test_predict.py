import numpy as np
import pytest
import torch

from ferkit.models import create_model
from ferkit.models.predict import predict_logits, predict_proba, tta_views
from ferkit.preprocess import Preprocessing, normalize, to_uint8_tensor


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = create_model("fastnet", num_classes=4, widths=(4, 8, 8, 16)).eval()
    m.preprocessing, m.classes, m.temperature = Preprocessing(crop=40), tuple("abcd"), 2.0
    return m


def test_probabilities_apply_the_temperature_and_sum_to_one(model):
    images = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    logits = predict_logits(model, images)
    probs = predict_proba(model, images)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(probs, torch.softmax(torch.from_numpy(logits) / 2.0, 1).numpy(), rtol=1e-4, atol=1e-6)
    direct = model(normalize(to_uint8_tensor(images), model.preprocessing)).detach().numpy()
    np.testing.assert_allclose(logits, direct, rtol=1e-4, atol=1e-5)  # the one shared preprocessing


def test_colour_input_and_other_sizes_are_converted(model):
    rgb = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    assert predict_proba(model, rgb).shape == (2, 4)


def test_ten_crop_views_are_corners_centre_and_their_mirrors():
    x = torch.arange(48 * 48, dtype=torch.float32).view(1, 1, 48, 48)
    views = tta_views(x, Preprocessing(crop=40), "tencrop")
    assert len(views) == 10 and all(v.shape == (1, 1, 40, 40) for v in views)
    assert views[0][0, 0, 0, 0] == 0 and views[3][0, 0, 0, 0] == 8 * 48 + 8
    assert torch.equal(views[5], views[0].flip(-1))
    with pytest.raises(ValueError, match="tta must be one of"):
        predict_proba(create_model("lenet5"), np.zeros((1, 48, 48), np.uint8), tta="rotate")


def test_multiscale_views_are_the_face_at_four_zooms_and_their_mirrors():
    x = torch.rand(2, 1, 48, 48)
    views = tta_views(x, Preprocessing(crop=40), "multiscale")
    assert len(views) == 8 and all(v.shape == (2, 1, 40, 40) for v in views)
    whole = torch.nn.functional.interpolate(x, size=(40, 40), mode="bilinear", antialias=True)
    assert torch.allclose(views[0], whole)  # 1.0 x 40: the whole face squeezed into the input
    assert torch.equal(views[2], tta_views(x, Preprocessing(crop=40), "none")[0])  # 1.2 x 40 = 48: the usual crop
    assert torch.equal(views[4], views[0].flip(-1)) and torch.equal(views[7], views[3].flip(-1))
    # without a crop the face is the input: the first view is the face itself, the others zoom in
    uncropped = tta_views(x, Preprocessing(crop=0), "multiscale")
    assert torch.equal(uncropped[0], x) and all(v.shape == x.shape for v in uncropped)


def test_the_cli_offers_exactly_the_tta_modes_the_predictor_knows():
    from ferkit import cli
    from ferkit.models.predict import TTA_MODES

    assert cli.TTA_MODES == TTA_MODES

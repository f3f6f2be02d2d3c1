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

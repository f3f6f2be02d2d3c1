import numpy as np
import pytest
import torch

from ferkit.data import load_dataset
from ferkit.explain import grad_cam, layer_names
from ferkit.models import create_model, list_models, load_model
from ferkit.preprocess import normalize, to_uint8_tensor


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_heatmaps_have_the_inputs_size_are_finite_and_in_unit_range(name, method):
    torch.manual_seed(0)
    model = create_model(name, num_classes=7, in_chans=1)
    x = torch.randn(3, 1, 48, 48)
    result = grad_cam(model, x, method=method)
    assert result.heatmaps.shape == (3, 48, 48) and np.isfinite(result.heatmaps).all()
    assert result.heatmaps.min() >= 0 and result.heatmaps.max() <= 1
    assert result.targets == model(x).argmax(1).tolist()
    assert result.probs.shape == (3, 7) and np.allclose(result.probs.sum(1), 1, atol=1e-5)


def test_a_chosen_class_a_named_layer_and_bad_arguments():
    model = load_model("fast")
    x = torch.randn(2, 1, 40, 40)
    chosen = grad_cam(model, x, target=4)
    assert chosen.targets == [4, 4]
    assert grad_cam(model, x, target=[0, 3]).targets == [0, 3]
    inner = grad_cam(model, x, layer="features.3")
    assert inner.heatmaps.shape == (2, 40, 40) and inner.layer == "features.3"
    assert "features.3" in layer_names(model) and "features.3.0" in layer_names(model)
    with pytest.raises(KeyError, match="features.3.0"):
        grad_cam(model, x, layer="nope")
    with pytest.raises(ValueError, match="class index"):
        grad_cam(model, x, target=9)
    with pytest.raises(ValueError, match="gradcam"):
        grad_cam(model, x, method="saliency")
    assert all(p.grad is None for p in model.parameters())  # explaining leaves no gradients behind


def test_occluding_what_gradcam_marks_hurts_the_prediction_more(shared):
    """On real PublicTest faces the shipped model gets right: hiding the 20% of pixels Grad-CAM ranks highest
    lowers the predicted class's probability more than hiding the 20% it ranks lowest."""
    data = load_dataset(shared / "fer2013").split("PublicTest")
    model = load_model("fast")
    x = normalize(to_uint8_tensor(data.images[:300]), model.preprocessing)  # (300, 1, 40, 40)
    with torch.no_grad():
        probs = torch.softmax(model(x), 1)
    confident = ((probs.argmax(1).numpy() == data.labels[:300]) & (probs.max(1).values.numpy() > 0.5)).nonzero()[0]
    chosen = confident[:40]
    assert len(chosen) >= 30
    x = x[chosen]
    for method in ("gradcam", "gradcam++"):
        result = grad_cam(model, x, method=method)
        k = int(0.2 * x.shape[-1] * x.shape[-2])
        order = np.argsort(result.heatmaps.reshape(len(x), -1), axis=1, kind="stable")  # (N, H*W) low to high
        drops = {}
        for region, idx in (("most", order[:, -k:]), ("least", order[:, :k])):
            mask = torch.zeros(len(x), x.shape[-1] * x.shape[-2], dtype=torch.bool)
            mask[torch.arange(len(x))[:, None], torch.from_numpy(idx)] = True
            hidden = x.masked_fill(mask.view(len(x), 1, *x.shape[-2:]), 0.0)  # 0 = the mean pixel once standardised
            with torch.no_grad():
                after = torch.softmax(model(hidden), 1)
            targets = torch.tensor(result.targets)
            drops[region] = (probs[chosen].gather(1, targets[:, None]) - after.gather(1, targets[:, None]))[:, 0]
        assert drops["most"].mean() > drops["least"].mean() + 0.1, (method, drops["most"].mean(), drops["least"].mean())
        assert (drops["most"] > drops["least"]).float().mean() > 0.65  # 0.5 if Grad-CAM knew nothing

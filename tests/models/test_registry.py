import pytest
import torch

from ferkit.errors import FerkitError
from ferkit.models import create_model, list_models
from ferkit.models.registry import accepts


def test_the_four_families_are_registered():
    assert {"lenet5", "vgg", "resnet", "fastnet"} <= set(list_models())


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("in_chans, classes", [(1, 7), (3, 8)])
def test_one_interface_forward_and_backward(name, in_chans, classes):
    torch.manual_seed(0)
    model = create_model(name, num_classes=classes, in_chans=in_chans)
    x = torch.randn(2, in_chans, 48, 48, requires_grad=True)
    features = model.forward_features(x)
    assert features.ndim == 4 and features.shape[1] == model.num_features  # a map for Grad-CAM
    logits = model.forward_head(features)
    assert logits.shape == (2, classes)
    model.eval()
    torch.testing.assert_close(model(x), model.forward_head(model.forward_features(x)))
    model.train()
    model(x).sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in model.parameters())
    assert model.arch == name and model.arch_args["num_classes"] == classes


@pytest.mark.parametrize("name", list_models())
def test_reset_head_changes_only_the_classifier(name):
    model = create_model(name)
    features = [p.clone() for p in model.feature_parameters()]
    model.reset_head(3)
    assert model(torch.randn(1, 1, 48, 48)).shape == (1, 3)
    assert all(torch.equal(a, b) for a, b in zip(features, model.feature_parameters()))
    assert model.arch_args["num_classes"] == 3


def test_fast_model_is_small_and_size_aware_models_take_input_size():
    assert sum(p.numel() for p in create_model("fastnet").parameters()) <= 1_500_000
    assert accepts("vgg", "input_size") and not accepts("fastnet", "input_size")
    assert create_model("vgg", input_size=40)(torch.randn(1, 1, 40, 40)).shape == (1, 7)


def test_unknown_model_and_bad_arguments_are_clear_errors():
    with pytest.raises(FerkitError, match="did you mean 'resnet'"):
        create_model("resnt")
    with pytest.raises(FerkitError, match="does not take these arguments"):
        create_model("fastnet", depth=3)

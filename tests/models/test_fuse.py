"""Folding batch norm into convolutions: the same outputs, no BatchNorm2d left, the original untouched."""

import pytest
import torch
from torch import nn

from ferkit.models import create_model
from ferkit.models.ensemble import Ensemble
from ferkit.models.fuse import fuse_batchnorm
from ferkit.preprocess import Preprocessing


def trained_looking(model: nn.Module) -> nn.Module:
    """Give every batch norm non-trivial statistics and affine parameters, as training would."""
    gen = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen))
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.randn(n, generator=gen))
            m.bias.data.copy_(torch.randn(n, generator=gen))
    return model.eval()


@pytest.mark.parametrize("name,args", [("fastnet", {"widths": [8, 16, 16, 32]}), ("resnet", {"widths": [8, 8, 16, 16]}),
                                       ("vgg", {"widths": [8, 8, 16, 16], "fc": [32, 32]})])  # fmt: skip
def test_a_fused_model_computes_the_same_function_without_batch_norm(name, args):
    model = trained_looking(create_model(name, **args))
    fused = fuse_batchnorm(model)
    x = torch.randn(4, 1, 48, 48)
    with torch.no_grad():
        assert torch.allclose(fused(x), model(x), atol=1e-4)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # the original is left as it was


def test_an_ensemble_of_fused_members_matches_the_original():
    torch.manual_seed(0)
    members = []
    for widths in ([8, 8, 16, 16], [4, 8, 8, 16]):
        m = trained_looking(create_model("fastnet", widths=widths))
        m.classes, m.temperature = tuple("abcdefg"), 1.0
        m.preprocessing = Preprocessing(mean=0.4 + 0.1 * len(members))  # members standardise differently
        members.append(m)
    ens = Ensemble(members, preprocessing=Preprocessing())
    x = torch.randn(3, 1, 48, 48)
    with torch.no_grad():
        assert torch.allclose(fuse_batchnorm(ens)(x), ens(x), atol=1e-4)

import torch

from ferkit.config import AugmentConfig
from ferkit.engine.augment import augment, random_erase
from ferkit.preprocess import Preprocessing, normalize

X = torch.randint(0, 256, (8, 1, 48, 48), dtype=torch.uint8)
NONE = AugmentConfig(pad=0, flip=False, rotate=0, shift=0, scale=0, erase=0)


def test_no_augmentation_equals_the_evaluation_transform():
    prep = Preprocessing(mean=0.4, std=0.2)
    out = augment(X, NONE, prep, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, normalize(X, prep), atol=1e-4, rtol=0)


def test_shapes_with_a_crop_and_same_seed_same_batch():
    prep = Preprocessing(crop=40)
    a = augment(X, AugmentConfig(), prep, torch.Generator().manual_seed(3))
    b = augment(X, AugmentConfig(), prep, torch.Generator().manual_seed(3))
    c = augment(X, AugmentConfig(), prep, torch.Generator().manual_seed(4))
    assert a.shape == (8, 1, 40, 40) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_flip_only_mirrors():
    prep = Preprocessing(mean=0.0, std=1.0)
    out = augment(X, AugmentConfig(pad=0, flip=True, rotate=0, shift=0, scale=0, erase=0), prep,
                  torch.Generator().manual_seed(0))  # fmt: skip
    plain, mirrored = normalize(X, prep), normalize(X, prep).flip(-1)
    same = [torch.allclose(o, p, atol=1e-4) for o, p in zip(out, plain)]
    flipped = [torch.allclose(o, m, atol=1e-4) for o, m in zip(out, mirrored)]
    assert all(s or f for s, f in zip(same, flipped)) and any(flipped) and any(same)


def test_random_erasing_zeroes_a_rectangle_in_the_chosen_images():
    x = torch.ones(200, 1, 20, 20)
    out = random_erase(x, 0.5, torch.Generator().manual_seed(0))
    erased = (out == 0).flatten(1).any(1)
    assert 70 < erased.sum() < 130
    fractions = (out[erased] == 0).flatten(1).float().mean(1)
    assert fractions.min() > 0 and fractions.max() <= 0.25

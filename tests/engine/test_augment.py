import torch

from ferkit.config import AugmentConfig
from ferkit.engine.augment import augment, mix_batch, random_erase
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


def _mix_inputs(n=16):
    # each image a constant equal to its index, each target one-hot on its index: mixing shows up in both
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 8, 8).clone()
    return x, torch.eye(n)


def test_mixup_blends_images_and_labels_with_the_same_weight():
    x, target = _mix_inputs()
    out, mixed = mix_batch(x, target, AugmentConfig(mixup=0.4), torch.Generator().manual_seed(1))
    assert torch.allclose(mixed.sum(1), torch.ones(16))
    for i in range(16):  # the image is sum_j w_j * j for the label weights w
        assert torch.allclose(out[i], (mixed[i] * torch.arange(16.0)).sum().expand(1, 8, 8), atol=1e-5)
    assert (mixed.max(1).values < 1).any()


def test_cutmix_label_weights_equal_the_pasted_area():
    x, target = _mix_inputs()
    for seed in range(5):
        out, mixed = mix_batch(x, target, AugmentConfig(cutmix=1.0), torch.Generator().manual_seed(seed))
        assert torch.allclose(mixed.sum(1), torch.ones(16))
        for i in range(16):
            own = (out[i] == i).float().mean()  # share of image i that is still its own pixels
            assert torch.isclose(mixed[i, i], own) or torch.equal(out[i], x[i])


def test_mixing_off_or_never_chosen_changes_nothing_and_same_seed_repeats():
    x, target = _mix_inputs()
    for aug in (AugmentConfig(), AugmentConfig(mixup=1.0, mix_prob=0.0)):
        out, same = mix_batch(x, target, aug, torch.Generator().manual_seed(0))
        assert torch.equal(out, x) and torch.equal(same, target)
    a = mix_batch(x, target, AugmentConfig(mixup=1.0, cutmix=1.0), torch.Generator().manual_seed(7))
    b = mix_batch(x, target, AugmentConfig(mixup=1.0, cutmix=1.0), torch.Generator().manual_seed(7))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

"""Knowledge distillation: the KD loss, a student that learns from its teacher alone, several teachers, resume,
and soft targets cached once per training face with TTA."""

import json
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file

from ferkit.engine import distill
from ferkit.engine.distill import (
    TEACHER_TARGETS,
    dkd_loss,
    dkd_parts,
    kd_loss,
    load_teacher,
    softened,
    standardized_kd_loss,
    teach,
    teacher_targets,
)
from ferkit.engine.trainer import mix, train
from ferkit.errors import FerkitError
from ferkit.models import load_model, save_checkpoint
from ferkit.models.ensemble import Ensemble
from ferkit.preprocess import center_crop, standardize, to_unit
from tests.conftest import save_image, write_fer_csv
from tests.engine.conftest import striped, tiny_config

QUIET = {"log": lambda m: None}
NO_FLIP = {"augment.flip": False, "train.batch_size": 32}


def test_the_kd_loss_is_t_squared_times_kl_and_averages_teachers():
    torch.manual_seed(0)
    s, t1, t2 = torch.randn(5, 7), torch.randn(5, 7), torch.randn(5, 7)
    assert kd_loss(s, softened([s], 2.0), 2.0).abs() < 1e-6
    p = torch.softmax(t1 / 3, 1)
    kl = F.kl_div(F.log_softmax(s / 3, 1), p, reduction="batchmean")
    assert torch.allclose(kd_loss(s, softened([t1], 3.0), 3.0), 9 * kl, atol=1e-5)
    mean = (torch.softmax(t1 / 2, 1) + torch.softmax(t2 / 2, 1)) / 2
    expected = 4 * F.kl_div(F.log_softmax(s / 2, 1), mean, reduction="batchmean")
    assert torch.allclose(kd_loss(s, softened([t1, t2], 2.0), 2.0), expected, atol=1e-5)


def test_dkd_splits_hintons_kl_into_a_target_part_and_a_non_target_part_weighted_by_one_minus_p_label():
    torch.manual_seed(0)
    s, t, y = torch.randn(6, 7) * 3, torch.randn(6, 7) * 3, torch.randint(0, 7, (6,))
    p = torch.softmax(t / 3, 1)
    tckd, nckd = dkd_parts(s, p, y, 3.0)
    p_label = p[torch.arange(6), y]
    assert torch.allclose((tckd + (1 - p_label) * nckd).mean() * 9, kd_loss(s, p, 3.0), atol=1e-5)
    # the parts by hand for one face: the binary (label, rest) KL, then the KL among the other six classes
    q = torch.softmax(s[0] / 3, 0)
    binary = F.kl_div(
        torch.stack([q[y[0]], 1 - q[y[0]]]).log(), torch.stack([p_label[0], 1 - p_label[0]]), reduction="sum"
    )
    others = torch.arange(7) != y[0]
    among = F.kl_div((q[others] / q[others].sum()).log(), p[0, others] / p[0, others].sum(), reduction="sum")
    assert torch.allclose(tckd[0], binary, atol=1e-5) and torch.allclose(nckd[0], among, atol=1e-5)
    assert torch.allclose(dkd_loss(s, p, y, 3.0, 1.0, 8.0), (tckd + 8 * nckd).mean() * 9, atol=1e-5)
    assert dkd_loss(t, p, y, 3.0, 1.0, 8.0).abs() < 1e-5  # a student that is the teacher has nothing to learn


def test_logit_standardised_kd_ignores_the_logits_shift_and_scale_on_either_side():
    torch.manual_seed(1)
    s, t = torch.randn(5, 7), torch.randn(5, 7)
    loss = standardized_kd_loss(s, torch.softmax(t / 3, 1), 2.0)
    assert torch.allclose(standardized_kd_loss(4 * s - 1, torch.softmax(t, 1), 2.0), loss, atol=1e-5)
    assert standardized_kd_loss(0.5 * t + 2, torch.softmax(t / 3, 1), 2.0).abs() < 1e-5
    assert loss > 1e-3  # yet a different ranking still costs


@pytest.fixture(scope="module")
def teacher_setup(tmp_path_factory):
    """A learnable dataset and a teacher trained on it, shared by the tests below (training it takes a while)."""
    folder = tmp_path_factory.mktemp("teacher")
    rows = [(i % 7, striped(i % 7, i), "Training" if i < 280 else "PublicTest") for i in range(350)]
    data = write_fer_csv(folder / "fer2013.csv", rows)
    train(tiny_config(data, folder / "teacher", **{**NO_FLIP, "train.epochs": 8}), **QUIET)
    return data, folder / "teacher/best"


def test_a_student_taught_only_by_its_teachers_learns_what_they_know(teacher_setup, tmp_path):
    data, teacher = teacher_setup
    assert load_model(teacher).meta["metrics"]["val_accuracy"] >= 0.9
    # kd_weight 1: the labels play no part, everything the student learns comes from the two teachers. Widths 8-16:
    # the 4-8 student ended at 0.69 with one thread; this one 0.84-0.99 over seeds 0-3 with one, 0.86 with two
    fields = {**NO_FLIP, "train.epochs": 8, "train.teacher": f"{teacher},{teacher}", "train.kd_weight": 1.0,
              "train.kd_temperature": 2.0, "model.args": {"widths": [8, 16, 16, 16]}}  # fmt: skip
    result = train(tiny_config(data, tmp_path / "student", **fields), **QUIET)
    assert result.best_accuracy >= 0.7  # chance is 1/7
    assert load_model(tmp_path / "student/best").meta["config"]["train"]["teacher"] == f"{teacher},{teacher}"


@pytest.mark.parametrize("kind", ["dkd", "standardized"])
def test_a_student_learns_from_its_teacher_with_decoupled_or_standardised_kd(teacher_setup, tmp_path, kind):
    data, teacher = teacher_setup
    fields = {**NO_FLIP, "train.epochs": 8, "train.teacher": str(teacher), "train.kd_weight": 1.0,
              "train.kd_loss": kind, "model.args": {"widths": [4, 8, 8, 8]}}  # fmt: skip
    result = train(tiny_config(data, tmp_path / kind, **fields), **QUIET)
    assert result.best_accuracy >= 0.7  # the labels play no part: chance is 1/7
    assert load_model(tmp_path / kind / "best").meta["config"]["train"]["kd_loss"] == kind


def test_a_distilled_run_resumes_exactly(teacher_setup, tmp_path):
    data, teacher = teacher_setup
    fields = {**NO_FLIP, "train.epochs": 2, "train.teacher": str(teacher), "augment.mixup": 0.4}
    train(tiny_config(data, tmp_path / "full", **fields), **QUIET)
    train(tiny_config(data, tmp_path / "part", **{**fields, "train.time_limit": 1e-9}), **QUIET)
    train(tiny_config(data, tmp_path / "part", **fields), resume=True, **QUIET)
    a, b = load_file(tmp_path / "full/last/model.safetensors"), load_file(tmp_path / "part/last/model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(FerkitError, match="different train.teacher"):
        train(tiny_config(data, tmp_path / "part", **{**fields, "train.teacher": None}), resume=True, **QUIET)


def test_a_teacher_with_other_classes_or_bad_weights_is_a_clear_error(teacher_setup, tmp_path):
    data, teacher = teacher_setup
    for i, name in enumerate(["happy", "sad", "contempt"] * 6):
        save_image(tmp_path / f"mine/{name}/img{i}.png", striped(i % 3, i))
    with pytest.raises(FerkitError, match="teacher's classes"):
        train(tiny_config(tmp_path / "mine", tmp_path / "r", **{"train.teacher": str(teacher)}), **QUIET)
    with pytest.raises(FerkitError, match="kd_weight"):
        train(tiny_config(data, tmp_path / "r", **{"train.teacher": str(teacher), "train.kd_weight": 2.0}), **QUIET)
    with pytest.raises(FerkitError, match="not a checkpoint"):
        train(tiny_config(data, tmp_path / "r", **{"train.teacher": str(tmp_path / "nowhere")}), **QUIET)
    with pytest.raises(FerkitError, match="teacher_flip needs a teacher"):
        train(tiny_config(data, tmp_path / "r", **{"train.teacher_flip": True}), **QUIET)
    with pytest.raises(FerkitError, match="teacher_cache_tta needs a teacher"):
        train(tiny_config(data, tmp_path / "r", **{"train.teacher_cache_tta": "flip"}), **QUIET)
    with pytest.raises(FerkitError, match="teacher_precision needs a teacher"):
        train(tiny_config(data, tmp_path / "r", **{"train.teacher_precision": "bf16"}), **QUIET)
    cached = {"train.teacher": str(teacher), "train.teacher_cache_tta": "rotate"}
    with pytest.raises(FerkitError, match="teacher_cache_tta must be one of none, flip, tencrop, multiscale"):
        train(tiny_config(data, tmp_path / "r", **cached), **QUIET)
    with pytest.raises(FerkitError, match="kd_loss must be one of kl, dkd, standardized, not 'js'"):
        train(tiny_config(data, tmp_path / "r", **{"train.teacher": str(teacher), "train.kd_loss": "js"}), **QUIET)
    mixed = {"train.teacher": str(teacher), "train.kd_loss": "dkd", "augment.cutmix": 1.0}
    with pytest.raises(FerkitError, match="dkd needs each face's one label class"):
        train(tiny_config(data, tmp_path / "r", **mixed), **QUIET)
    negative = {"train.teacher": str(teacher), "train.kd_loss": "dkd", "train.dkd_beta": -8.0}
    with pytest.raises(FerkitError, match="dkd_alpha and train.dkd_beta must be 0 or more, not 1.0 and -8.0"):
        train(tiny_config(data, tmp_path / "r", **negative), **QUIET)
    both = {**cached, "train.teacher_cache_tta": "flip", "train.teacher_flip": True}
    with pytest.raises(FerkitError, match="teacher_flip is for a teacher run on each batch"):
        train(tiny_config(data, tmp_path / "r", **both), **QUIET)


def test_the_teacher_runs_with_batch_norm_folded_and_channels_last_yet_computes_the_same(teacher_setup, tmp_path):
    data, teacher = teacher_setup
    original = load_model(teacher).eval()
    cfg = tiny_config(data, tmp_path / "s", **{"train.teacher": f"{teacher},{teacher}"})
    fast = load_teacher(cfg, original.classes, original.preprocessing, torch.device("cpu"))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    assert fast.members[0].features[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(5, 1, 48, 48).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expected = Ensemble([original, original], preprocessing=original.preprocessing).member_logits(x)
        for got, want in zip(fast.member_logits(x), expected):
            assert torch.allclose(got, want, atol=1e-4)


def test_with_teacher_flip_the_soft_targets_average_the_batch_and_its_mirror_image(teacher_setup, tmp_path):
    data, teacher = teacher_setup
    cfg = tiny_config(data, tmp_path / "s", **{"train.teacher": f"{teacher},{teacher}", "train.teacher_flip": True})
    model = load_model(teacher)
    fused = load_teacher(cfg, model.classes, model.preprocessing, torch.device("cpu"))
    run = SimpleNamespace(cfg=cfg, teacher=fused, teacher_precision="fp32", device=torch.device("cpu"))
    x = torch.randn(6, 1, 48, 48)
    taught = teach(run, x)
    assert len(taught) == 4 and all(t.shape == (6, 7) for t in taught)  # 2 members x (batch, mirrored batch)
    with torch.no_grad():
        plain, mirrored = fused.member_logits(x)[0], fused.member_logits(x.flip(3))[0]
    assert torch.allclose(taught[0], plain, atol=1e-4) and torch.allclose(taught[1], mirrored, atol=1e-4)
    assert not torch.allclose(plain, mirrored, atol=1e-3)  # the mirror is a second view, not the same one
    run.cfg = tiny_config(data, tmp_path / "s", **{"train.teacher": str(teacher)})  # teacher_flip off: one view
    assert len(teach(run, x)) == 2


def banded(label: int, seed: int) -> np.ndarray:
    """Like `striped` but the class is a horizontal band's height, which a mirror image keeps."""
    return striped(label, seed).T.copy()


def test_a_student_learns_from_flip_averaged_soft_targets_and_the_run_records_it(tmp_path):
    rows = [(i % 7, banded(i % 7, i), "Training" if i < 280 else "PublicTest") for i in range(350)]
    data = write_fer_csv(tmp_path / "fer2013.csv", rows)
    train(tiny_config(data, tmp_path / "teacher", **{"train.epochs": 8, "train.batch_size": 32}), **QUIET)
    fields = {"train.epochs": 8, "train.batch_size": 32, "train.teacher": str(tmp_path / "teacher/best"),
              "train.teacher_flip": True, "train.kd_weight": 1.0, "model.args": {"widths": [4, 8, 8, 8]}}  # fmt: skip
    assert train(tiny_config(data, tmp_path / "student", **fields), **QUIET).best_accuracy >= 0.7  # chance: 1/7
    assert load_model(tmp_path / "student/best").meta["config"]["train"]["teacher_flip"] is True


def test_cached_targets_average_the_members_softened_probabilities_over_the_tta_views(teacher_setup, tmp_path):
    data, teacher = teacher_setup
    model = load_model(teacher)
    cfg = tiny_config(data, tmp_path / "s", **{"train.teacher": f"{teacher},{teacher}"})
    fused = load_teacher(cfg, model.classes, model.preprocessing, torch.device("cpu"))
    prep = model.preprocessing
    faces = torch.from_numpy(np.stack([striped(i % 7, 100 + i) for i in range(6)]))[:, None]  # (6, 1, 48, 48) uint8
    got = teacher_targets(fused, faces, prep, "flip", 2.0, batch_size=4)
    view = standardize(center_crop(to_unit(faces, prep), prep.crop), prep)  # (6, 1, 40, 40)
    with torch.no_grad():
        logits = fused.member_logits(view) + fused.member_logits(view.flip(3))  # 2 members x 2 views
    expected = torch.stack([torch.softmax(t / 2.0, 1) for t in logits]).mean(0)
    assert got.shape == (6, 7) and torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(got.sum(1), torch.ones(6), atol=1e-5)
    multiscale = teacher_targets(fused, faces, prep, "multiscale", 2.0)
    assert not torch.allclose(multiscale, got, atol=1e-4)  # other views, other targets
    assert torch.allclose(teacher_targets(fused, faces, prep, "flip", 1.0).sum(1), torch.ones(6), atol=1e-5)


def test_mixing_mixes_the_cached_targets_with_the_images_and_labels_draw():
    torch.manual_seed(0)
    run = SimpleNamespace(classes=tuple("abcdefg"), cfg=SimpleNamespace(augment=SimpleNamespace(
        mixup=0.4, cutmix=1.0, mix_prob=1.0)))  # fmt: skip
    x, y = torch.randn(8, 1, 40, 40), torch.arange(8) % 7
    cached = F.one_hot(y, 7).float()  # targets equal to the labels must stay equal once mixed
    for seed in range(4):
        mixed_x, labels, mixed_cached = mix(x, y, None, cached, run, torch.Generator().manual_seed(seed))
        plain_x, plain, none = mix(x, y, None, None, run, torch.Generator().manual_seed(seed))
        assert none is None and torch.equal(mixed_x, plain_x) and torch.allclose(labels, plain)
        assert torch.allclose(mixed_cached, labels) and not torch.equal(mixed_x, x)


def test_a_student_learns_from_cached_targets_and_a_resumed_run_reuses_them(teacher_setup, tmp_path, monkeypatch):
    data, teacher = teacher_setup
    # "none" and no shifts: a mirror image or a shift of a few pixels moves the stripes that tell these classes apart,
    # and a cached target, unlike a teacher on the batch, cannot follow the augmentation
    fields = {**NO_FLIP, "train.epochs": 8, "train.teacher": str(teacher), "train.teacher_cache_tta": "none",
              "train.kd_weight": 1.0, "model.args": {"widths": [4, 8, 8, 8]}, "augment.pad": 0,
              "augment.shift": 0.0}  # fmt: skip
    result = train(tiny_config(data, tmp_path / "student", **fields), **QUIET)
    assert result.best_accuracy >= 0.7  # kd_weight 1: all it knows came from the cached targets; chance is 1/7
    cache = tmp_path / "student" / TEACHER_TARGETS
    assert load_file(cache)["targets"].shape == (280, 7)
    card = load_model(tmp_path / "student/best").meta["config"]["train"]
    assert card["teacher_cache_tta"] == "none"

    short = {**fields, "train.epochs": 2, "augment.mixup": 0.4}
    train(tiny_config(data, tmp_path / "full", **short), **QUIET)
    train(tiny_config(data, tmp_path / "part", **{**short, "train.time_limit": 1e-9}), **QUIET)

    def recomputed(*args, **kwargs):
        raise AssertionError("the resumed run recomputed the cached targets")

    monkeypatch.setattr(distill, "teacher_targets", recomputed)
    train(tiny_config(data, tmp_path / "part", **short), resume=True, **QUIET)
    a, b = load_file(tmp_path / "full/last/model.safetensors"), load_file(tmp_path / "part/last/model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)  # the resumed run is the uninterrupted one
    with pytest.raises(AssertionError, match="recomputed"):  # a cache made at another temperature is not reused
        train(tiny_config(data, tmp_path / "part", **{**short, "train.kd_temperature": 4.0}), **QUIET)


def test_cached_targets_come_from_the_teachers_own_input_so_the_student_may_crop_differently(teacher_setup, tmp_path):
    data, teacher = teacher_setup  # the teacher sees whole 48-pixel faces (model.crop 0)
    model = load_model(teacher)
    fields = {**NO_FLIP, "train.epochs": 1, "train.teacher": str(teacher), "model.crop": 40,
              "model.args": {"widths": [4, 8, 8, 8]}, "train.precision": "fp32"}  # fmt: skip
    with pytest.raises(FerkitError, match=r"takes 48x48 crops .* the student 40x40 .*train.teacher_cache_tta"):
        train(tiny_config(data, tmp_path / "online", **fields), **QUIET)
    train(tiny_config(data, tmp_path / "cached", **{**fields, "train.teacher_cache_tta": "flip"}), **QUIET)
    cached = load_file(tmp_path / "cached" / TEACHER_TARGETS)["targets"]  # (N, 7)
    faces = torch.from_numpy(np.stack([striped(i % 7, i) for i in range(len(cached))]))[:, None]  # the fixture's faces
    own = teacher_targets(Ensemble([model]), faces, model.preprocessing, "flip", 2.0)  # on 48x48, as the teacher sees
    assert cached.shape == own.shape and torch.allclose(cached, own, atol=1e-4)


def test_teachers_of_different_input_sizes_teach_together_through_cached_targets(teacher_setup, tmp_path):
    data, teacher = teacher_setup
    small = load_model(teacher)  # whole 48-pixel faces
    big = save_checkpoint(tmp_path / "big", small, {"classes": list(small.classes), "calibration": {"temperature": 1.0},
                          "preprocessing": replace(small.preprocessing, size=64).to_dict()})  # fmt: skip
    large = load_model(big)  # the same weights on whole 64-pixel faces
    cached = {"train.teacher": f"{teacher},{big}", "train.teacher_cache_tta": "flip"}
    fused = load_teacher(tiny_config(data, tmp_path / "s", **cached), small.classes, None, torch.device("cpu"))
    assert fused.preprocessing.size == 48  # the smallest input; the 64-pixel member gets it upsampled
    faces = torch.from_numpy(np.stack([striped(i % 7, 200 + i) for i in range(6)]))[:, None]  # (6, 1, 48, 48) uint8
    got = teacher_targets(fused, faces, fused.preprocessing, "flip", 2.0)
    own = [teacher_targets(Ensemble([m]), faces, m.preprocessing, "flip", 2.0) for m in (small, large)]
    assert torch.allclose(got, (own[0] + own[1]) / 2, atol=1e-4)  # each member on its own input, averaged
    assert not torch.allclose(own[0], own[1], atol=1e-3)  # the 64-pixel input does change the member's answer
    fields = {**NO_FLIP, **cached, "train.epochs": 1, "model.args": {"widths": [4, 8, 8, 8]}}
    assert load_file(train(tiny_config(data, tmp_path / "student", **fields), **QUIET).out / TEACHER_TARGETS)


def test_a_cache_file_that_is_damaged_or_made_for_other_data_is_not_trusted(tmp_path):
    from safetensors.torch import save_file

    key = {"teacher": "a/best", "tta": "multiscale", "temperature": 3.0, "data": "f5ea", "n": 2}
    path = tmp_path / TEACHER_TARGETS
    path.write_bytes(b"not safetensors")
    assert distill._load_targets(path, key) is None  # unreadable: recomputed, not an error
    targets = torch.full((2, 7), 1 / 7)
    save_file({"targets": targets}, str(path), metadata={"key": json.dumps(key)})
    assert torch.equal(distill._load_targets(path, key), targets)
    assert distill._load_targets(path, {**key, "data": "other"}) is None
    assert distill._load_targets(tmp_path / "absent.safetensors", key) is None


def test_another_run_with_the_same_teachers_weights_reuses_their_cached_targets(
    teacher_setup, tmp_path, monkeypatch, isolated_cache
):
    import shutil

    from safetensors.torch import save_file

    data, teacher = teacher_setup
    copy = tmp_path / "teacher-copy"
    shutil.copytree(teacher, copy)
    fields = {**NO_FLIP, "train.epochs": 1, "train.teacher": str(copy), "train.teacher_cache_tta": "flip",
              "model.args": {"widths": [4, 8, 8, 8]}}  # fmt: skip
    train(tiny_config(data, tmp_path / "first", **fields), **QUIET)
    shared = list((isolated_cache / "teacher_targets").glob("*.safetensors"))
    assert len(shared) == 1 and torch.equal(load_file(shared[0])["targets"],
                                            load_file(tmp_path / "first" / TEACHER_TARGETS)["targets"])  # fmt: skip
    computed = []
    real = distill.teacher_targets
    monkeypatch.setattr(distill, "teacher_targets", lambda *a, **k: computed.append(1) or real(*a, **k))
    train(tiny_config(data, tmp_path / "second", **fields), **QUIET)  # a new --out: found in the cache folder
    assert computed == [] and (tmp_path / "second" / TEACHER_TARGETS).is_file()

    weights = load_file(copy / "model.safetensors")  # the teacher retrained in place: same path, other weights
    save_file({k: v + 0.01 if v.is_floating_point() else v for k, v in weights.items()}, copy / "model.safetensors")
    train(tiny_config(data, tmp_path / "third", **fields), **QUIET)
    assert computed == [1] and len(list((isolated_cache / "teacher_targets").glob("*.safetensors"))) == 2

    monkeypatch.setenv("FERKIT_NO_CACHE", "1")  # the cache folder off: the run folder alone keeps them
    train(tiny_config(data, tmp_path / "fourth", **{**fields, "train.kd_temperature": 5.0}), **QUIET)
    assert computed == [1, 1] and len(list((isolated_cache / "teacher_targets").glob("*.safetensors"))) == 2


def test_an_fp32_student_can_learn_from_targets_its_teachers_computed_in_bf16(teacher_setup, tmp_path, isolated_cache):
    data, teacher = teacher_setup
    fields = {**NO_FLIP, "train.epochs": 1, "train.teacher": str(teacher), "train.teacher_cache_tta": "flip",
              "model.args": {"widths": [4, 8, 8, 8]}, "train.precision": "fp32"}  # fmt: skip
    train(tiny_config(data, tmp_path / "fp32", **fields), **QUIET)
    train(tiny_config(data, tmp_path / "bf16", **{**fields, "train.teacher_precision": "bf16"}), **QUIET)
    with safe_open(str(tmp_path / "bf16" / TEACHER_TARGETS), "pt") as f:
        assert json.loads(f.metadata()["key"])["precision"] == "bf16"  # a cache keyed by what computed it
    in_fp32 = load_file(tmp_path / "fp32" / TEACHER_TARGETS)["targets"]  # (N, 7)
    in_bf16 = load_file(tmp_path / "bf16" / TEACHER_TARGETS)["targets"]
    assert torch.allclose(in_fp32, in_bf16, atol=0.05) and not torch.equal(in_fp32, in_bf16)  # bf16 rounding, no more
    assert len(list((isolated_cache / "teacher_targets").glob("*.safetensors"))) == 2  # neither run reused the other
    student = load_model(tmp_path / "bf16/best").meta
    assert student["training"]["precision"] == "fp32" and student["config"]["train"]["teacher_precision"] == "bf16"

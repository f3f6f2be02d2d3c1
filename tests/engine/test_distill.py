"""Knowledge distillation: the KD loss, a student that learns from its teacher alone, several teachers, resume."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from ferkit.engine.trainer import distillation_loss, load_teacher, teach, train
from ferkit.errors import FerkitError
from ferkit.models import load_model
from ferkit.models.ensemble import Ensemble
from tests.conftest import save_image, write_fer_csv
from tests.engine.conftest import striped, tiny_config

QUIET = {"log": lambda m: None}
NO_FLIP = {"augment.flip": False, "train.batch_size": 32}


def test_the_kd_loss_is_t_squared_times_kl_and_averages_teachers():
    torch.manual_seed(0)
    s, t1, t2 = torch.randn(5, 7), torch.randn(5, 7), torch.randn(5, 7)
    assert distillation_loss(s, [s], 2.0).abs() < 1e-6
    p = torch.softmax(t1 / 3, 1)
    kl = F.kl_div(F.log_softmax(s / 3, 1), p, reduction="batchmean")
    assert torch.allclose(distillation_loss(s, [t1], 3.0), 9 * kl, atol=1e-5)
    mean = (torch.softmax(t1 / 2, 1) + torch.softmax(t2 / 2, 1)) / 2
    expected = 4 * F.kl_div(F.log_softmax(s / 2, 1), mean, reduction="batchmean")
    assert torch.allclose(distillation_loss(s, [t1, t2], 2.0), expected, atol=1e-5)


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
    # kd_weight 1: the labels play no part, everything the student learns comes from the two teachers
    fields = {**NO_FLIP, "train.epochs": 8, "train.teacher": f"{teacher},{teacher}", "train.kd_weight": 1.0,
              "train.kd_temperature": 2.0, "model.args": {"widths": [4, 8, 8, 8]}}  # fmt: skip
    result = train(tiny_config(data, tmp_path / "student", **fields), **QUIET)
    assert result.best_accuracy >= 0.7  # chance is 1/7
    assert load_model(tmp_path / "student/best").meta["config"]["train"]["teacher"] == f"{teacher},{teacher}"


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
    with pytest.raises(FerkitError, match="teacher_flip=true needs a teacher"):
        train(tiny_config(data, tmp_path / "r", **{"train.teacher_flip": True}), **QUIET)


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
    run = SimpleNamespace(cfg=cfg, teacher=fused, precision="fp32", device=torch.device("cpu"))
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

"""Mixed precision: bf16 autocast where the CPU computes in bf16, fp32 master weights, and the same accuracy."""

import csv

import pytest
import torch
from safetensors.torch import load_file

from ferkit.engine import precision
from ferkit.engine.trainer import train
from ferkit.errors import FerkitError
from tests.conftest import write_fer_csv
from tests.engine.conftest import striped, tiny_config


@pytest.mark.parametrize(
    ("vendor", "flags", "expected"),
    [
        ("GenuineIntel", "avx512f avx512_bf16 amx_bf16 amx_tile", "bf16"),  # AMX: 2.6x fp32
        ("AuthenticAMD", "avx512f avx512_bf16", "bf16"),  # AMD EPYC: 1.75x
        ("GenuineIntel", "avx512f avx512_bf16", "fp32"),  # AVX-512 BF16 without AMX: 0.79x
        ("GenuineIntel", "avx2 fma", "fp32"),  # bf16 emulated
        ("", "", "fp32"),  # /proc/cpuinfo unreadable
    ],
)
def test_auto_picks_the_precision_that_trains_faster_on_the_cpu(monkeypatch, vendor, flags, expected):
    monkeypatch.setattr(precision, "cpu_info", lambda: (vendor, frozenset(flags.split())))
    assert precision.resolve_precision("auto", torch.device("cpu")) == expected


def test_cpu_info_reads_the_vendor_and_flags_of_this_machine():
    vendor, flags = precision.cpu_info()
    if vendor:  # Linux on x86: the fields the choice rests on are read, not guessed
        assert "fpu" in flags or "sse2" in flags
        assert precision.cpu_has_bf16() == bool({"avx512_bf16", "amx_bf16"} & flags)


def test_forced_precisions_are_kept_and_bad_values_are_errors():
    cpu = torch.device("cpu")
    assert precision.resolve_precision("fp32", cpu) == "fp32" and precision.resolve_precision("bf16", cpu) == "bf16"
    with pytest.raises(FerkitError, match="train.precision must be one of auto, bf16, fp32"):
        precision.resolve_precision("fp16", cpu)


def test_the_teachers_precision_follows_the_students_unless_set():
    cpu = torch.device("cpu")
    assert precision.resolve_teacher_precision("same", "fp32", cpu) == "fp32"
    assert precision.resolve_teacher_precision("same", "bf16", cpu) == "bf16"
    assert precision.resolve_teacher_precision("bf16", "fp32", cpu) == "bf16"
    assert precision.resolve_teacher_precision("fp32", "bf16", cpu) == "fp32"
    with pytest.raises(FerkitError, match=r"train.teacher_precision \(or same\) must be one of auto, bf16, fp32"):
        precision.resolve_teacher_precision("half", "fp32", cpu)


def test_bf16_autocast_runs_the_forward_pass_in_bf16():
    layer = torch.nn.Linear(4, 4)
    with precision.autocast("bf16", torch.device("cpu")):
        assert layer(torch.randn(2, 4)).dtype == torch.bfloat16
    with precision.autocast("fp32", torch.device("cpu")):
        assert layer(torch.randn(2, 4)).dtype == torch.float32


@pytest.fixture
def learnable_csv(tmp_path):
    """280 training and 70 validation faces whose class is a stripe's position (no flips: a flip moves it)."""
    rows = [(i % 7, striped(i % 7, i), "Training" if i < 280 else "PublicTest") for i in range(350)]
    return write_fer_csv(tmp_path / "fer2013.csv", rows)


def test_bf16_and_fp32_training_reach_the_same_accuracy_with_fp32_checkpoints(learnable_csv, tmp_path):
    results = {}
    for name in ("fp32", "bf16"):
        out = tmp_path / name
        fields = {"train.epochs": 8, "train.batch_size": 32, "train.precision": name, "augment.flip": False}
        results[name] = train(tiny_config(learnable_csv, out, **fields), log=lambda m: None)
        weights = load_file(out / "best/model.safetensors")
        assert all(v.dtype in (torch.float32, torch.int64) for v in weights.values())
        rows = list(csv.DictReader((out / "log.csv").read_text().splitlines()))
        assert all(float(r["img_per_s"]) > 0 for r in rows)
        assert load_file(out / "last/train_state.safetensors")  # optimizer state beside fp32 weights
    fp32, bf16 = results["fp32"].best_accuracy, results["bf16"].best_accuracy
    print(fp32, bf16)
    assert fp32 >= 0.9 and bf16 >= 0.9 and abs(fp32 - bf16) <= 0.08, (fp32, bf16)


def test_configs_written_before_precision_still_load():
    from ferkit.config import load_config

    assert load_config(None, ["train.amp=false"]).train.precision == "fp32"
    assert load_config(None, ["train.amp=true"]).train.precision == "auto"

import csv
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ferkit.engine.trainer import train
from ferkit.errors import FerkitError
from ferkit.models import load_model
from tests.conftest import save_image
from tests.engine.conftest import striped, tiny_config


def test_smoke_run_writes_every_output(fer_csv, tmp_path):
    result = train(tiny_config(fer_csv, tmp_path / "run"), log=lambda m: None)
    out = tmp_path / "run"
    assert {p.name for p in out.iterdir()} >= {"best", "last", "log.csv", "curves.png", "config.yaml"}
    rows = list(csv.DictReader((out / "log.csv").read_text().splitlines()))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and float(rows[-1]["val_acc"]) >= 0
    model = load_model(out / "best")
    meta = model.meta
    assert meta["classes"][0] == "angry" and meta["data"]["val_split"] == "PublicTest"
    assert meta["data"]["fingerprint"] and meta["config"]["train"]["epochs"] == 2
    calibration = meta["calibration"]
    assert 0.01 < calibration["temperature"] < 100 and calibration["nll_after"] <= calibration["nll_before"] + 1e-9
    assert result.best_epoch in (1, 2) and model(torch.zeros(1, 1, 48, 48)).shape == (1, 7)


def test_seeded_runs_repeat_and_a_resumed_run_equals_an_uninterrupted_one(fer_csv, tmp_path):
    fields = {"train.epochs": 3, "train.ema": 0.9, "model.crop": 40}
    train(tiny_config(fer_csv, tmp_path / "full", **fields), log=lambda m: None)
    # "Kill" after one epoch: a run told to stop there, then resumed with the full epoch count.
    train(tiny_config(fer_csv, tmp_path / "part", **{**fields, "train.epochs": 3, "train.time_limit": 1e-9}),
          log=lambda m: None)  # fmt: skip
    assert json.loads((tmp_path / "part/last/train_state.json").read_text())["loop"]["epoch"] == 1
    train(tiny_config(fer_csv, tmp_path / "part", **fields), resume=True, log=lambda m: None)
    a, b = load_file(tmp_path / "full/last/model.safetensors"), load_file(tmp_path / "part/last/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "full/log.csv").read_text().splitlines()[-1].split(",")[:6] == (
        tmp_path / "part/log.csv").read_text().splitlines()[-1].split(",")[:6]  # fmt: skip


def test_resume_without_a_state_or_with_another_config_is_a_clear_error(fer_csv, tmp_path):
    with pytest.raises(FerkitError, match="nothing to resume"):
        train(tiny_config(fer_csv, tmp_path / "new"), resume=True, log=lambda m: None)
    train(tiny_config(fer_csv, tmp_path / "run", **{"train.epochs": 1}), log=lambda m: None)
    with pytest.raises(FerkitError, match="with a different train.lr"):
        train(tiny_config(fer_csv, tmp_path / "run", **{"train.lr": 0.5}), resume=True, log=lambda m: None)
    more = train(tiny_config(fer_csv, tmp_path / "run", **{"train.epochs": 2}), resume=True, log=lambda m: None)
    assert more.epochs_run == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"train.optimizer": "adamw", "train.lr": 0.003, "train.schedule": "onecycle"},
        {"train.schedule": "plateau", "train.balance": "weights", "train.label_smoothing": 0.1},
        {"train.schedule": "constant", "train.balance": "sampler", "augment.resized_crop": 0.6},
        {"augment.mixup": 0.4, "augment.cutmix": 1.0, "train.balance": "weights", "train.label_smoothing": 0.1},
    ],
)
def test_optimizers_schedules_and_class_balance_run(fer_csv, tmp_path, fields):
    result = train(tiny_config(fer_csv, tmp_path / "run", **fields), log=lambda m: None)
    assert result.epochs_run == 2 and np.isfinite(result.history[-1]["train_loss"])


def test_soft_labels_from_ferplus_votes(tmp_path):
    from tests.conftest import write_fer_csv
    from tests.data.test_ferplus import HEADER

    usages = ["Training"] * 40 + ["PublicTest"] * 12
    (tmp_path / "fer2013").mkdir()
    write_fer_csv(tmp_path / "fer2013/fer2013.csv", [(0, striped(i % 8 % 7, i), u) for i, u in enumerate(usages)])
    (tmp_path / "ferplus").mkdir()
    votes = ["0,9,1,0,0,0,0,0,0,0", "6,1,0,3,0,0,0,0,0,0", "0,0,2,0,0,0,0,8,0,0"]
    text = HEADER + "".join(f"{u},fer{i}.png,{votes[i % 3]}\n" for i, u in enumerate(usages))
    (tmp_path / "ferplus/fer2013new.csv").write_text(text)
    train(tiny_config(tmp_path / "ferplus", tmp_path / "run", **{"train.epochs": 1}), log=lambda m: None)
    model = load_model(tmp_path / "run/best")
    assert len(model.classes) == 8 and model.meta["data"]["val_split"] == "Valid"
    from ferkit.data import load_dataset
    from ferkit.engine.evaluate import evaluate

    report = evaluate([model], load_dataset(tmp_path / "ferplus"), None, "flip", "ferplus")
    assert set(report["splits"]) == {"Train", "Valid"} and len(report["splits"]["Valid"]["per_class"]) == 8


def test_transfer_learning_replaces_the_head_and_freezes_features(fer_csv, tmp_path):
    train(tiny_config(fer_csv, tmp_path / "base", **{"train.epochs": 1}), log=lambda m: None)
    for i, name in enumerate(["happy", "sad", "contempt"] * 8):
        save_image(tmp_path / f"mine/{name}/img{i}.png", striped(i % 3, i))
    base = load_model(tmp_path / "base/best")
    fields = {"model.init": str(tmp_path / "base/best"), "model.freeze_epochs": 1, "train.epochs": 1}
    train(tiny_config(tmp_path / "mine", tmp_path / "tuned", **fields), log=lambda m: None)
    tuned = load_model(tmp_path / "tuned/best")
    assert len(tuned.classes) == 8 and tuned.arch_args["num_classes"] == 8
    # Frozen for its only epoch: the features are the base model's, only the head moved.
    for (name, a), b in zip(base.state_dict().items(), tuned.state_dict().values()):
        if not name.startswith("head.") and "running" not in name and "num_batches" not in name:
            assert torch.equal(a, b), name


def test_validation_is_never_a_test_split_and_is_held_out_when_missing(fer_csv, tmp_path):
    with pytest.raises(FerkitError, match="PrivateTest is a test split"):
        train(tiny_config(fer_csv, tmp_path / "r", **{"data.val_split": "PrivateTest"}), log=lambda m: None)
    for i in range(30):
        save_image(tmp_path / f"plain/{'ab'[i % 2]}/{i}.png", striped(i % 2, i))
    train(tiny_config(tmp_path / "plain", tmp_path / "r2", **{"train.epochs": 1}), log=lambda m: None)
    meta = load_model(tmp_path / "r2/best").meta
    assert meta["data"]["val_split"] == "all (held-out 10%)" and meta["data"]["val"] == 4


def test_cpu_runs_are_deterministic(fer_csv, tmp_path):
    for name in ("a", "b"):
        train(tiny_config(fer_csv, tmp_path / name, **{"train.epochs": 1}), log=lambda m: None)
    a, b = load_file(tmp_path / "a/best/model.safetensors"), load_file(tmp_path / "b/best/model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)

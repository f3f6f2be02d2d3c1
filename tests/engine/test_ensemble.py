"""`make_ensemble` / `ferkit ensemble`: an ensemble checkpoint calibrated as one model on validation data."""

import json

import numpy as np
import pytest
import torch

from ferkit.data import load_dataset
from ferkit.engine.ensemble import make_ensemble
from ferkit.errors import FerkitError
from ferkit.models import create_model, load_model, save_checkpoint
from ferkit.models.checkpoint import META
from ferkit.models.ensemble import Ensemble
from ferkit.preprocess import Preprocessing
from tests.conftest import write_fer_csv
from tests.engine.conftest import striped
from tests.test_cli import ferkit

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


@pytest.fixture
def members(tmp_path):
    folders = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = create_model("fastnet", widths=(8, 16, 16, 32)).eval()
        meta = {"classes": CLASSES, "preprocessing": Preprocessing(crop=40).to_dict()}
        folders.append(save_checkpoint(tmp_path / f"runs/m{seed}", model, meta))
    rows = [(i % 7, striped(i % 7, i), ("Training", "PublicTest", "PrivateTest")[i % 3]) for i in range(60)]
    return folders, write_fer_csv(tmp_path / "fer2013.csv", rows)


def test_the_ensemble_is_calibrated_on_the_validation_split_and_names_members_relatively(members, tmp_path):
    (a, b), data = members
    meta = make_ensemble([str(a), str(b), "fast"], tmp_path / "out/ens", load_dataset(data))
    written = json.loads((tmp_path / "out/ens" / META).read_text())
    assert written["members"] == ["../../runs/m0", "../../runs/m1", "fast"] and written["arch"] == "ensemble"
    assert meta["calibration"]["split"] == "PublicTest" and meta["metrics"]["val_split"] == "PublicTest"
    cal = meta["calibration"]
    assert 0.01 < cal["temperature"] < 100 and cal["nll_after"] <= cal["nll_before"] + 1e-9
    model = load_model(tmp_path / "out/ens")
    assert isinstance(model, Ensemble) and np.isclose(model.temperature, cal["temperature"])


def test_test_splits_and_single_members_are_refused(members, tmp_path):
    (a, b), data = members
    with pytest.raises(FerkitError, match="test split"):
        make_ensemble([str(a), str(b)], tmp_path / "e", load_dataset(data), "PrivateTest")
    with pytest.raises(FerkitError, match="at least two"):
        make_ensemble([str(a)], tmp_path / "e", load_dataset(data))


def test_the_command(members, tmp_path):
    (a, b), data = members
    result = ferkit("ensemble", a, b, "--data", data, "--out", tmp_path / "ens", cache_dir=tmp_path / "c")
    assert result.returncode == 0, result.stderr
    assert "2 members, PublicTest accuracy" in result.stdout
    evaluated = ferkit("evaluate", "--model", tmp_path / "ens", "--data", data, "--split", "PublicTest", "--json",
                       "--out", tmp_path / "card", cache_dir=tmp_path / "c")  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["splits"]["PublicTest"]["n"] == 20
    card = (tmp_path / "card/MODEL_CARD.md").read_text()
    assert "ensemble of 2 checkpoints" in card and card.count("architecture `fastnet`") == 2
    missing = ferkit("ensemble", a, tmp_path / "nowhere", "--data", data, "--out", tmp_path / "e2",
                     cache_dir=tmp_path / "c")  # fmt: skip
    assert missing.returncode == 2 and "nowhere" in missing.stderr

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ferkit.data import load_dataset
from ferkit.engine.evaluate import evaluate, load_models
from ferkit.engine.trainer import train
from ferkit.errors import FerkitError
from tests.conftest import save_image
from tests.engine.conftest import striped, tiny_config


@pytest.fixture
def trained(fer_csv, tmp_path):
    train(tiny_config(fer_csv, tmp_path / "run", **{"train.epochs": 2}), log=lambda m: None)
    return tmp_path / "run/best"


def kaggle_folder(root):
    for i in range(42):
        split = ("PublicTest", "PrivateTest")[i % 2]
        label = i % 7
        name = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")[label]
        save_image(root / f"test/{name}/{split}_{i}.png", striped(label, 1000 + i))
    return root


def test_json_report_reports_public_and_private_test_separately(trained, tmp_path):
    env = {**os.environ, "FERKIT_CACHE_DIR": str(tmp_path / "c")}
    data = kaggle_folder(tmp_path / "kaggle")
    cmd = [sys.executable, "-m", "ferkit", "evaluate", "--model", str(trained), "--data", str(data), "--json",
           "--tta", "flip", "--out", str(tmp_path / "card")]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == str(trained) and report["tta"] == "flip"
    assert set(report["splits"]) == {"PublicTest", "PrivateTest"}
    split = report["splits"]["PublicTest"]
    assert split["n"] == 21 and 0 <= split["accuracy"] <= 1 and 0 <= split["macro_f1"] <= 1 and 0 <= split["ece"] <= 1
    assert set(split["per_class"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert np.array(split["confusion"]).sum() == 21
    card = (tmp_path / "card/MODEL_CARD.md").read_text()
    assert "PrivateTest" in card and "Known limits" in card and "temperature" in card
    assert {"confusion_PublicTest.png", "reliability_PrivateTest.png", "model_card.json"} <= {
        p.name for p in (tmp_path / "card").iterdir()}  # fmt: skip


@pytest.mark.parametrize("tta, views", [("none", 1), ("flip", 2), ("tencrop", 10), ("multiscale", 8)])
def test_tta_modes_and_ensembles(trained, fer_csv, tta, views):
    import torch

    from ferkit.models.predict import tta_views

    models = load_models(f"{trained},{trained}")
    assert len(tta_views(torch.zeros(1, 1, 48, 48), models[0].preprocessing, tta)) == views
    report = evaluate(models, load_dataset(fer_csv), ["PublicTest"], tta, "pair")
    single = evaluate(models[:1], load_dataset(fer_csv), ["PublicTest"], tta, "one")
    assert report["splits"]["PublicTest"]["accuracy"] == single["splits"]["PublicTest"]["accuracy"]


def test_a_seven_class_model_on_eight_class_data_skips_contempt(trained, tmp_path):
    for i, name in enumerate(["happy", "contempt", "sad"] * 4):
        save_image(tmp_path / f"d/{name}/{i}.png", striped(i % 3, i))
    report = evaluate(load_models(str(trained)), load_dataset(tmp_path / "d"), None, "none", "m")
    assert report["splits"]["all"]["n"] == 8 and report["splits"]["all"]["skipped_unknown_class"] == 4


def test_bad_model_argument(tmp_path):
    with pytest.raises(FerkitError, match="not a checkpoint folder"):
        load_models(str(tmp_path))


def test_a_distilled_checkpoints_card_names_its_teachers():
    from ferkit.engine.card import _distillation_lines

    assert _distillation_lines({"teacher": None, "kd_weight": 0.5}) == []
    line = _distillation_lines({"teacher": "a/best,fast", "kd_weight": 0.7, "kd_temperature": 3.0})
    assert line == ["- distilled from a/best,fast (KD weight 0.7, temperature 3.0) on the same augmented batches"]
    flipped = _distillation_lines({"teacher": "a/best", "kd_weight": 0.7, "kd_temperature": 3.0, "teacher_flip": True})
    assert flipped[0].endswith("on the same augmented batches and their mirror images")
    cached = _distillation_lines({"teacher": "a/best", "kd_weight": 0.7, "kd_temperature": 3.0,
                                  "teacher_cache_tta": "multiscale"})  # fmt: skip
    assert cached[0].endswith("on soft targets computed once from each un-augmented training face with multiscale TTA")
    in_bf16 = _distillation_lines({"teacher": "a", "kd_weight": 0.7, "kd_temperature": 3.0,
                                   "teacher_cache_tta": "multiscale", "teacher_precision": "bf16"})  # fmt: skip
    assert in_bf16[0].endswith("with multiscale TTA, the teachers computing in bf16")
    dkd = _distillation_lines({"teacher": "a", "kd_weight": 0.5, "kd_temperature": 3.0, "kd_loss": "dkd",
                               "dkd_alpha": 1.0, "dkd_beta": 8.0})  # fmt: skip
    assert dkd == ["- distilled from a (decoupled KD, alpha 1.0 / beta 8.0, KD weight 0.5, temperature 3.0) on the "
                   "same augmented batches"]  # fmt: skip
    standardized = _distillation_lines(
        {"teacher": "a", "kd_weight": 0.9, "kd_temperature": 3.0, "kd_loss": "standardized"}
    )
    assert standardized[0].startswith("- distilled from a (logit-standardised KD, KD weight 0.9,")


def test_a_cards_recipe_line_names_smoothing_mixing_ema_and_precision():
    from ferkit.engine.card import _recipe_lines

    assert _recipe_lines({}, {}) == []
    plain = _recipe_lines({"train": {"label_smoothing": 0.1, "weight_decay": 0.0005, "ema": 0.0}}, {})
    assert plain == ["- label smoothing 0.1, weight decay 0.0005"]
    config = {"train": {"label_smoothing": 0.0, "weight_decay": 0.0005, "ema": 0.999},
              "augment": {"mixup": 0.2, "cutmix": 1.0, "mix_prob": 0.5}}  # fmt: skip
    line = _recipe_lines(config, {"precision": "fp32"})[0]
    assert "mixup 0.2 / cutmix 1.0 on 50% of the batches" in line
    assert "EMA of the weights, decay 0.999 per step" in line and line.endswith("fp32 arithmetic")

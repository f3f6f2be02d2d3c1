import json

from ferkit.engine.kfold import cross_validate
from tests.conftest import save_image
from tests.engine.conftest import striped, tiny_config


def test_subject_independent_kfold_reports_mean_and_std(tmp_path):
    names = ["anger", "happy", "sadness"]
    for s in range(8):
        for frame in range(3):
            save_image(tmp_path / f"ck/{names[s % 3]}/S{s:03d}_001_{frame:08d}.png", striped(s % 3, s * 10 + frame))
    cfg = tiny_config(tmp_path / "ck", tmp_path / "cv", **{"train.epochs": 1})
    summary = cross_validate(cfg, k=2, log=lambda m: None)
    assert [f["fold"] for f in summary["folds"]] == [0, 1]
    assert sum(f["n"] for f in summary["folds"]) == 24  # every image tested exactly once
    assert 0 <= summary["mean_accuracy"] <= 1 and summary["std_accuracy"] >= 0
    assert json.loads((tmp_path / "cv/kfold.json").read_text())["k"] == 2

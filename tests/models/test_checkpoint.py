import json

import pytest
import torch

from ferkit.errors import FerkitError
from ferkit.models import create_model, load_model, save_checkpoint
from ferkit.models.checkpoint import META, WEIGHTS
from ferkit.preprocess import Preprocessing


def meta():
    return {"classes": ["a", "b", "c"], "preprocessing": Preprocessing(crop=40).to_dict(),
            "calibration": {"temperature": 1.7}}  # fmt: skip


@pytest.mark.parametrize("name", ["fastnet", "resnet"])
def test_save_then_load_gives_identical_logits(tmp_path, name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, widths=(8, 16, 16, 32)).eval()
    x = torch.randn(4, 1, 40, 40)
    save_checkpoint(tmp_path / "ck", model, meta())
    loaded = load_model(tmp_path / "ck")
    assert torch.equal(model(x), loaded(x))
    assert loaded.classes == ("a", "b", "c") and loaded.temperature == 1.7 and loaded.preprocessing.crop == 40
    assert not loaded.training
    assert load_model(tmp_path / "ck" / META).arch == name  # the json file itself works too
    on_disk = json.loads((tmp_path / "ck" / META).read_text())
    assert on_disk["arch_args"]["widths"] == [8, 16, 16, 32] and "ferkit_version" in on_disk


def test_broken_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(FerkitError, match="not a checkpoint folder"):
        load_model(tmp_path)
    save_checkpoint(tmp_path / "ck", create_model("lenet5", num_classes=3), meta())
    (tmp_path / "ck" / WEIGHTS).write_bytes(b"truncated")
    with pytest.raises(FerkitError, match="cannot load weights"):
        load_model(tmp_path / "ck")
    (tmp_path / "ck" / META).write_text("{not json")
    with pytest.raises(FerkitError, match="unreadable checkpoint metadata"):
        load_model(tmp_path / "ck")
    (tmp_path / "ck" / META).write_text(json.dumps({"format": "other"}))
    with pytest.raises(FerkitError, match="is not ferkit-checkpoint/1"):
        load_model(tmp_path / "ck")
    with pytest.raises(FerkitError, match="shipped"):
        load_model("no-such-model")

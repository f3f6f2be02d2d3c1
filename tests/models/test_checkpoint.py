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
    (tmp_path / "ck" / META).write_text(
        json.dumps({"format": "ferkit-checkpoint/1", "arch": "lenet5", "classes": "ab"})
    )
    with pytest.raises(FerkitError, match=r"model.json: no valid classes, preprocessing"):
        load_model(tmp_path / "ck")
    with pytest.raises(FerkitError, match="shipped"):
        load_model("no-such-model")


def test_int8_kernels_round_trip_within_half_a_step_per_channel():
    from ferkit.models.checkpoint import quantize_int8

    w = torch.randn(6, 3, 3, 3) * torch.logspace(-3, 1, 6).reshape(6, 1, 1, 1)  # channels of very different ranges
    w[2] = 0  # a dead channel stays exactly zero
    q, scale = quantize_int8(w)
    assert q.dtype == torch.int8 and scale.shape == (6,) and q.abs().max() == 127
    back = q.float() * scale.reshape(6, 1, 1, 1)
    error = (back - w).abs().reshape(6, -1).amax(1)
    assert torch.all(error <= scale / 2 + 1e-7) and torch.equal(back[2], w[2])


def test_an_int8_checkpoint_is_smaller_loads_as_float32_and_names_a_missing_scale(tmp_path):
    from safetensors.torch import load_file, save_file

    from ferkit.models.checkpoint import SCALE, stored_bytes

    torch.manual_seed(0)
    model = create_model("fastnet", num_classes=3, widths=(8, 16, 16, 32)).eval()
    save_checkpoint(tmp_path / "fp32", model, meta())
    save_checkpoint(tmp_path / "int8", model, meta(), weights_dtype="int8")
    assert stored_bytes(model, "int8") < 0.4 * stored_bytes(model, "float32")
    assert (tmp_path / "int8" / WEIGHTS).stat().st_size < 0.5 * (tmp_path / "fp32" / WEIGHTS).stat().st_size
    loaded = load_model(tmp_path / "int8")
    assert loaded.meta["weights_dtype"] == "int8" and all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.randn(8, 1, 40, 40)
    assert torch.allclose(torch.softmax(model(x), 1), torch.softmax(loaded(x), 1), atol=0.02)
    stored = load_file(str(tmp_path / "int8" / WEIGHTS))
    kernel = next(k for k, v in stored.items() if v.dtype == torch.int8)
    save_file({k: v for k, v in stored.items() if k != kernel + SCALE}, str(tmp_path / "int8" / WEIGHTS))
    with pytest.raises(FerkitError, match=f"int8 tensor '{kernel}' has no .* per-channel scales"):
        load_model(tmp_path / "int8")
    with pytest.raises(FerkitError, match="weights_dtype must be one of float32, float16, int8"):
        save_checkpoint(tmp_path / "bad", model, meta(), weights_dtype="int4")

"""ONNX export: onnxruntime's logits equal PyTorch's within 1e-4, on random inputs and on real faces."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ferkit.models import create_model, list_models, load_model, save_checkpoint
from ferkit.models.export import TOLERANCE, export_onnx, max_difference, onnx_metadata
from ferkit.preprocess import Preprocessing, normalize, to_uint8_tensor
from tests.conftest import SHARED

ort = pytest.importorskip("onnxruntime")

SMALL = {"vgg": {"widths": (8, 16, 16, 32), "fc": (32,)}, "resnet": {"widths": (8, 16, 16, 32)},
         "fastnet": {}, "lenet5": {}}  # fmt: skip


def real_faces(n: int = 16) -> np.ndarray:
    """FER2013 PublicTest faces from ../shared when present, else synthetic ones."""
    folder = SHARED / "fer2013/test/happy"
    if folder.is_dir():
        from PIL import Image

        return np.stack([np.asarray(Image.open(p)) for p in sorted(folder.iterdir())[:n]])
    return np.random.default_rng(0).integers(0, 256, (n, 48, 48), dtype=np.uint8)


@pytest.fixture(params=list_models())
def checkpoint(request, tmp_path):
    torch.manual_seed(0)
    kwargs = dict(SMALL.get(request.param, {}))
    if request.param in ("vgg", "lenet5"):
        kwargs["input_size"] = 40
    model = create_model(request.param, **kwargs).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, as in a trained model
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    meta = {"classes": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
            "preprocessing": Preprocessing(crop=40, mean=0.5, std=0.25).to_dict(),
            "calibration": {"temperature": 1.3}}  # fmt: skip
    return save_checkpoint(tmp_path / request.param, model, meta)


def test_onnx_equals_pytorch_on_random_and_real_inputs(checkpoint, tmp_path):
    path, diff = export_onnx(checkpoint, tmp_path / "m.onnx")
    assert diff <= TOLERANCE
    model = load_model(checkpoint)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    real = normalize(to_uint8_tensor(real_faces()), model.preprocessing)  # (16, 1, 40, 40)
    assert max_difference(model, session, real) <= TOLERANCE
    assert max_difference(model, session, torch.randn(3, 1, 40, 40) * 3) <= TOLERANCE  # another batch size
    meta = onnx_metadata(path)
    assert meta["classes"][3] == "happy" and meta["preprocessing"]["crop"] == 40
    assert meta["calibration"]["temperature"] == 1.3


def test_export_command(tmp_path):
    model = create_model("lenet5")
    meta = {"classes": list("abcdefg"), "preprocessing": Preprocessing().to_dict()}
    save_checkpoint(tmp_path / "ck", model, meta)
    env = {**os.environ, "FERKIT_CACHE_DIR": str(tmp_path / "c")}
    cmd = [sys.executable, "-m", "ferkit", "export", str(tmp_path / "ck"), "--out", str(tmp_path / "x.onnx")]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "onnxruntime logits within" in result.stdout and (tmp_path / "x.onnx").stat().st_size > 1000
    bad = subprocess.run([sys.executable, "-m", "ferkit", "export", str(tmp_path / "nope")], capture_output=True,
                         text=True, env=env)  # fmt: skip
    assert bad.returncode == 2 and "not a checkpoint folder" in bad.stderr


def test_a_half_precision_export_is_half_the_size_and_gives_the_same_answers(tmp_path):
    from ferkit.models.checkpoint import WEIGHTS, resolve_checkpoint
    from ferkit.models.export import export_checkpoint
    from ferkit.models.predict import predict_proba

    out = export_checkpoint("fast", tmp_path / "fast16", "float16")
    fp32, fp16 = load_model("fast"), load_model(out)
    original = (resolve_checkpoint("fast") / WEIGHTS).stat().st_size
    assert (out / WEIGHTS).stat().st_size < 0.51 * original
    assert all(p.dtype == torch.float32 for p in fp16.parameters())  # cast back on loading
    assert fp16.meta["weights_dtype"] == "float16" and fp16.meta["metrics"] == fp32.meta["metrics"]
    assert fp16.temperature == fp32.temperature and fp16.preprocessing == fp32.preprocessing
    faces = real_faces(64)
    p32, p16 = predict_proba(fp32, faces), predict_proba(fp16, faces)
    assert np.abs(p32 - p16).max() < 5e-3 and (p32.argmax(1) == p16.argmax(1)).mean() >= 0.98


def test_an_int8_export_is_under_a_third_of_the_size_and_gives_nearly_the_same_answers(tmp_path):
    from ferkit.models.checkpoint import WEIGHTS, resolve_checkpoint
    from ferkit.models.export import export_checkpoint
    from ferkit.models.predict import predict_proba

    out = export_checkpoint("fast", tmp_path / "fast8", "int8")
    fp32, int8 = load_model("fast"), load_model(out)
    assert (out / WEIGHTS).stat().st_size < 0.3 * (resolve_checkpoint("fast") / WEIGHTS).stat().st_size
    assert int8.meta["weights_dtype"] == "int8" and int8.temperature == fp32.temperature
    faces = real_faces(64)
    p32, p8 = predict_proba(fp32, faces), predict_proba(int8, faces)
    assert np.abs(p32 - p8).max() < 3e-2 and (p32.argmax(1) == p8.argmax(1)).mean() >= 0.95


def test_the_export_command_writes_safetensors_and_refuses_half_onnx(tmp_path):
    env = {**os.environ, "FERKIT_CACHE_DIR": str(tmp_path / "c")}
    base = [sys.executable, "-m", "ferkit", "export", "fast"]
    done = subprocess.run([*base, "--format", "safetensors", "--half", "--out", str(tmp_path / "f16")],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 0 and "MiB of float16 weights" in done.stdout, done.stderr
    assert load_model(tmp_path / "f16").meta["weights_dtype"] == "float16"
    again = subprocess.run([*base, "--format", "safetensors", "--out", str(tmp_path / "f16")],
                           capture_output=True, text=True, env=env)  # fmt: skip
    assert again.returncode == 2 and "already holds a checkpoint" in again.stderr
    half_onnx = subprocess.run([*base, "--half", "--out", str(tmp_path / "x.onnx")], capture_output=True, text=True,
                               env=env)  # fmt: skip
    assert half_onnx.returncode == 2 and "--half applies to --format safetensors" in half_onnx.stderr
    int8 = subprocess.run([*base, "--format", "safetensors", "--int8", "--out", str(tmp_path / "i8")],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert int8.returncode == 0 and "MiB of int8 weights" in int8.stdout, int8.stderr
    both = subprocess.run([*base, "--format", "safetensors", "--int8", "--half"], capture_output=True, text=True,
                          env=env)  # fmt: skip
    assert both.returncode == 2 and "not allowed with argument" in both.stderr

import numpy as np
import pytest
import torch

from ferkit.errors import FerkitError
from ferkit.models import load_model
from ferkit.models import runtime as runtime_module
from ferkit.models.predict import predict_proba
from ferkit.models.runtime import OnnxForward, forward_for
from tests.models.test_export import checkpoint, real_faces  # noqa: F401  (the fixture, each registered model)

pytest.importorskip("onnxruntime")


def test_onnxruntime_gives_the_models_probabilities_for_every_architecture(checkpoint):  # noqa: F811
    model = load_model(checkpoint)
    forward = forward_for(model, "onnx")
    assert isinstance(forward, OnnxForward) and forward.difference <= runtime_module.TOLERANCE
    faces = real_faces(12)  # (12, 48, 48) uint8
    for tta in ("none", "flip", "tencrop"):
        expected = predict_proba(model, faces, tta=tta)
        got = predict_proba(model, faces, tta=tta, forward=forward)
        assert np.abs(got - expected).max() < 1e-5
    assert forward_for(model, "auto") is forward  # built once, kept on the model for every Analyzer sharing it
    assert forward_for(model, "torch") is model


def test_auto_falls_back_to_pytorch_and_onnx_says_why(checkpoint, monkeypatch):  # noqa: F811
    def broken(model, threads=None):
        raise RuntimeError("no such operator")

    monkeypatch.setattr(runtime_module, "OnnxForward", broken)
    model = load_model(checkpoint)
    assert forward_for(model, "auto") is model
    with pytest.raises(RuntimeError, match="no such operator") as refused:
        forward_for(model, "onnx")
    assert isinstance(refused.value, FerkitError)  # the CLI prints it as one line and exits 2
    with pytest.raises(ValueError, match="runtime must be one of auto, onnx, torch"):
        forward_for(model, "tensorrt")


def test_a_runtime_whose_logits_differ_is_not_used(checkpoint, monkeypatch):  # noqa: F811
    monkeypatch.setattr(runtime_module, "TOLERANCE", -1.0)  # any difference, even 0, is too much
    model = load_model(checkpoint)
    assert forward_for(model, "auto") is model
    with pytest.raises(RuntimeError, match="differ from PyTorch"):
        forward_for(model, "onnx")


def test_analyzer_reads_the_same_expressions_with_either_runtime():
    from pathlib import Path

    from ferkit.infer import Analyzer

    example = Path(__file__).resolve().parents[2] / "examples" / "astronaut.jpg"
    torch.manual_seed(0)
    fast = Analyzer("fast", runtime="auto")
    assert isinstance(fast.forward, OnnxForward)
    slow = Analyzer(fast.model, runtime="torch")
    a, b = fast.analyze(example), slow.analyze(example)
    assert len(a) == len(b) == 1 and a[0].label == b[0].label
    assert max(abs(a[0].probs[c] - b[0].probs[c]) for c in a[0].probs) < 1e-5
    assert fast.replica().forward is fast.forward  # server threads share one session

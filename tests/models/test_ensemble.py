"""Ensembles as models: load by folder, average calibrated probabilities, and work wherever a single model does."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ferkit.errors import FerkitError
from ferkit.models import create_model, load_model, save_checkpoint
from ferkit.models.checkpoint import META, save_ensemble
from ferkit.models.ensemble import Ensemble
from ferkit.models.predict import predict_proba
from ferkit.preprocess import Preprocessing

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "astronaut.jpg"
CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def member(folder: Path, seed: int, mean: float, std: float, temperature: float) -> Path:
    """A small fastnet checkpoint with its own standardisation and temperature."""
    torch.manual_seed(seed)
    model = create_model("fastnet", widths=(8, 16, 16, 32)).eval()
    meta = {"classes": CLASSES, "preprocessing": Preprocessing(crop=40, mean=mean, std=std).to_dict(),
            "calibration": {"temperature": temperature}}  # fmt: skip
    return save_checkpoint(folder, model, meta)


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path, Path]:
    a = member(tmp_path / "runs/a", 0, 0.50, 0.25, 1.3)
    b = member(tmp_path / "runs/b", 1, 0.45, 0.30, 0.8)
    ens = save_ensemble(tmp_path / "ens", ["../runs/a", "../runs/b"],
                        {"classes": CLASSES, "preprocessing": Preprocessing(crop=40, mean=0.5, std=0.25).to_dict(),
                         "calibration": {"temperature": 1.1}})  # fmt: skip
    return a, b, ens


def test_an_ensemble_folder_loads_and_averages_its_members_calibrated_probabilities(pair):
    a, b, ens = pair
    model = load_model(ens)
    assert isinstance(model, Ensemble) and model.classes == tuple(CLASSES) and model.temperature == 1.1
    faces = np.random.default_rng(0).integers(0, 256, (6, 48, 48), dtype=np.uint8)
    ma, mb = load_model(a), load_model(b)
    # each member standardises with its own mean and std: the ensemble re-standardises its input for them
    expected = (predict_proba(ma, faces) + predict_proba(mb, faces)) / 2
    model.temperature = 1.0
    assert np.allclose(predict_proba(model, faces), expected, atol=1e-5)
    model.temperature = 1.1
    sharper = predict_proba(model, faces)
    assert np.allclose(sharper.sum(1), 1, atol=1e-5) and (sharper.argmax(1) == expected.argmax(1)).all()


def test_an_ensemble_of_shipped_names_and_of_ensembles(pair, tmp_path):
    _, _, ens = pair
    meta = {"classes": CLASSES, "preprocessing": load_model("fast").preprocessing.to_dict()}
    mixed = save_ensemble(tmp_path / "mixed", ["fast", "../ens"], meta)
    model = load_model(mixed)
    assert len(model.members) == 2 and isinstance(model.members[1], Ensemble)
    assert model(torch.zeros(2, 1, 40, 40)).shape == (2, 7)


def test_broken_ensembles_are_clear_errors(pair, tmp_path):
    a, _, _ = pair
    meta = {"classes": CLASSES, "preprocessing": Preprocessing(crop=40).to_dict()}
    save_ensemble(tmp_path / "missing", ["../nowhere"], meta)
    with pytest.raises(FerkitError, match="member '../nowhere'"):
        load_model(tmp_path / "missing")
    save_ensemble(tmp_path / "loop", ["../loop"], meta)
    with pytest.raises(FerkitError, match="contains itself"):
        load_model(tmp_path / "loop")
    bad = json.loads((tmp_path / "loop" / META).read_text())
    (tmp_path / "loop" / META).write_text(json.dumps({**bad, "members": []}))
    with pytest.raises(FerkitError, match="non-empty list"):
        load_model(tmp_path / "loop")
    other = save_checkpoint(tmp_path / "seven-px", create_model("fastnet", widths=(8, 16, 16, 32)),
                            {"classes": CLASSES, "preprocessing": Preprocessing(crop=0).to_dict()})  # fmt: skip
    with pytest.raises(FerkitError, match="same input"):
        Ensemble([load_model(a), load_model(other)])


def test_onnx_export_of_an_ensemble_is_one_graph_equal_to_pytorch(pair, tmp_path):
    pytest.importorskip("onnxruntime")
    from ferkit.models.export import TOLERANCE, export_onnx, onnx_metadata

    _, _, ens = pair
    path, diff = export_onnx(str(ens), tmp_path / "ens.onnx")
    assert diff <= TOLERANCE and onnx_metadata(path)["arch"] == "ensemble"
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.randn(5, 1, 40, 40)
    with torch.no_grad():
        expected = load_model(ens)(x).numpy()
    assert np.abs(session.run(None, {"input": x.numpy()})[0] - expected).max() <= TOLERANCE


def test_an_ensemble_predicts_serves_and_explains(pair, tmp_path):
    from fastapi.testclient import TestClient

    from ferkit.explain import grad_cam
    from ferkit.infer import Analyzer
    from ferkit.serve import ServeSettings, create_app

    _, _, ens = pair
    analyzer = Analyzer(str(ens))
    faces = analyzer.analyze(str(EXAMPLE))
    assert faces and set(faces[0].probs) == set(CLASSES)
    with TestClient(create_app(analyzer, ServeSettings(workers=1))) as client:
        reply = client.post("/v1/analyze", files={"file": ("a.jpg", EXAMPLE.read_bytes(), "image/jpeg")})
        assert reply.status_code == 200 and len(reply.json()["faces"]) == len(faces)
        summary = client.get("/v1/models").json()["models"][0]
        assert summary["arch"] == "ensemble" and summary["members"] == ["../runs/a", "../runs/b"]
    model = load_model(ens)
    cam = grad_cam(model, torch.randn(2, 1, 40, 40))
    assert cam.heatmaps.shape == (2, 40, 40) and 0 <= cam.heatmaps.min() and cam.heatmaps.max() <= 1
    assert "mean of 2 members" in cam.layer
    inner = grad_cam(model, torch.randn(2, 1, 40, 40), layer="members.1.features.3")
    assert inner.heatmaps.shape == (2, 40, 40)


def test_a_safetensors_export_of_an_ensemble_carries_its_members_with_it(pair, tmp_path):
    import shutil

    from ferkit.models.export import export_checkpoint

    _, _, ens = pair
    faces = np.random.default_rng(1).integers(0, 256, (6, 48, 48), dtype=np.uint8)
    expected = predict_proba(load_model(ens), faces)
    out = export_checkpoint(str(ens), tmp_path / "packed")
    shutil.rmtree(tmp_path / "runs")  # the members it named are gone; the export holds its own copies
    packed = load_model(out)
    assert json.loads((out / META).read_text())["members"] == ["members/0", "members/1"]
    assert packed.temperature == 1.1 and np.allclose(predict_proba(packed, faces), expected, atol=1e-6)
    with pytest.raises(FerkitError, match="already holds a checkpoint"):
        export_checkpoint(out, out)
    small = load_model(export_checkpoint(out, tmp_path / "packed8", "int8"))  # every member stored in int8
    assert [m.meta["weights_dtype"] for m in small.members] == ["int8", "int8"]
    assert np.allclose(predict_proba(small, faces), expected, atol=0.03)

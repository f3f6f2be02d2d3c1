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
    rgb = Preprocessing(crop=40, channels=3).to_dict()
    colour = save_checkpoint(tmp_path / "colour", create_model("fastnet", widths=(8, 16, 16, 32), in_chans=3),
                             {"classes": CLASSES, "preprocessing": rgb})  # fmt: skip
    with pytest.raises(FerkitError, match="same channels"):
        Ensemble([load_model(a), load_model(colour)])


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


def test_the_resample_matrix_is_the_preprocessing_resize():
    from ferkit.models.ensemble import resample_matrix
    from ferkit.preprocess import resize

    x = torch.rand(3, 1, 54, 54)  # (B, C, S, S): the input of a model of 54-pixel crops of 64-pixel faces
    big = Preprocessing(size=64, crop=54)
    for size, crop in [(48, 40), (72, 60), (40, 0)]:
        m = resample_matrix(big, Preprocessing(size=size, crop=crop))
        assert torch.allclose(m @ x @ m.T, resize(x, crop or size), atol=1e-5)
    assert resample_matrix(big, Preprocessing(size=64, crop=54, mean=0.3)) is None


@pytest.fixture
def mixed(pair, tmp_path) -> tuple[Path, Path]:
    """Member a of `pair` (40-pixel crops of 48-pixel faces) and one that takes 60-pixel crops of 72-pixel faces:
    the same framing at 1.5 times the pixels."""
    torch.manual_seed(2)
    model = create_model("fastnet", widths=(8, 16, 16, 32)).eval()
    meta = {"classes": CLASSES, "preprocessing": Preprocessing(size=72, crop=60, mean=0.4, std=0.2).to_dict(),
            "calibration": {"temperature": 0.9}}  # fmt: skip
    return pair[0], save_checkpoint(tmp_path / "runs/big", model, meta)


def member_probs(member, x: torch.Tensor) -> torch.Tensor:
    """A member's calibrated probabilities (B, K) for faces x (B, C, S, S) in [0, 1], resized to its input."""
    from ferkit.preprocess import resize, standardize

    with torch.no_grad():
        logits = member(standardize(resize(x, member.preprocessing.input_size), member.preprocessing))
    return torch.softmax(logits / member.temperature, 1)


def test_members_of_different_input_sizes_each_get_the_ensemble_input_resized(mixed, tmp_path):
    a, big = mixed
    ma, mbig = load_model(a), load_model(big)
    ensemble = Ensemble([ma, mbig])
    prep = ensemble.preprocessing
    assert (prep.size, prep.crop, prep.mean, prep.std) == (48, 40, 0.5, 0.25)  # the smallest input, a's standardising
    x = torch.rand(4, 1, 40, 40)  # (B, C, S, S) in [0, 1]
    expected = (member_probs(ma, x) + member_probs(mbig, x)) / 2
    with torch.no_grad():
        got = torch.softmax(ensemble((x - prep.mean) / prep.std), 1)
    assert torch.allclose(got, expected, atol=1e-5)
    # saved and loaded as a folder, it takes the preprocessing its model.json names
    folder = save_ensemble(tmp_path / "mixed-ens", ["../runs/a", "../runs/big"],
                           {"classes": CLASSES, "preprocessing": prep.to_dict()})  # fmt: skip
    faces = np.random.default_rng(3).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    assert np.allclose(predict_proba(load_model(folder), faces), predict_proba(ensemble, faces), atol=1e-6)
    with pytest.raises(FerkitError, match="frame the face alike"):
        Ensemble([ma, mbig], Preprocessing(size=48, crop=0))


class Probe(torch.nn.Module):
    """A member whose answer moves with any change of framing: 7 fixed 8x8 patterns scored against its input
    averaged down to 8x8, whatever the input's side."""

    def __init__(self, prep: Preprocessing) -> None:
        super().__init__()
        self.patterns = torch.nn.Parameter(torch.randn(7, 64, generator=torch.Generator().manual_seed(0)))
        self.classes, self.preprocessing, self.temperature = tuple(CLASSES), prep, 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, S, S) -> (B, 7)
        return 3 * torch.nn.functional.adaptive_avg_pool2d(x, 8).flatten(1) @ self.patterns.T


@pytest.mark.parametrize("own, ensemble", [((48, 40), (72, 60)), ((72, 60), (48, 40))])
def test_a_member_in_an_ensemble_of_another_input_size_sees_its_own_tta_views(own, ensemble):
    alone = Probe(Preprocessing(size=own[0], crop=own[1]))
    wrapped = Ensemble([alone], Preprocessing(size=ensemble[0], crop=ensemble[1]))  # the same framing, resized
    coarse = torch.rand(8, 1, 6, 6, generator=torch.Generator().manual_seed(1))  # smooth faces: resizing keeps them
    faces = (torch.nn.functional.interpolate(coarse, size=(48, 48), mode="bilinear")[:, 0] * 255).byte().numpy()
    for tta in ("none", "flip", "multiscale", "tencrop"):
        own = predict_proba(alone, faces, tta=tta)
        # the same views of the face at another resolution, resized to the member's: within 0.02, where framing the
        # faces one pixel tighter moves the probe by more than 0.05
        assert np.abs(predict_proba(wrapped, faces, tta=tta) - own).max() < 0.02
        assert np.abs(predict_proba(alone, faces[:, 1:47, 1:47], tta=tta) - own).max() > 0.05


def test_a_mixed_input_ensemble_exports_to_one_onnx_graph_and_explains_on_its_own_pixels(mixed, tmp_path):
    pytest.importorskip("onnxruntime")
    from ferkit.explain import grad_cam
    from ferkit.models.export import TOLERANCE, export_onnx

    folder = save_ensemble(tmp_path / "mixed-ens", ["../runs/a", "../runs/big"],
                           {"classes": CLASSES, "preprocessing": Preprocessing(size=72, crop=60).to_dict()})  # fmt:skip
    _, diff = export_onnx(str(folder), tmp_path / "mixed.onnx")
    assert diff <= TOLERANCE
    cam = grad_cam(load_model(folder), torch.randn(2, 1, 60, 60))
    assert cam.heatmaps.shape == (2, 60, 60) and cam.heatmaps.max() <= 1 and "mean of 2 members" in cam.layer

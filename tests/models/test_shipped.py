"""Models shipped inside the package load by name, describe themselves, export to ONNX exactly, and reproduce
their recorded numbers."""

import pytest
import torch

from ferkit.models import load_model
from ferkit.models.checkpoint import ALIASES, resolve_checkpoint, shipped_models
from ferkit.models.export import TOLERANCE, export_onnx, max_difference
from ferkit.preprocess import normalize, to_uint8_tensor
from tests.models.test_export import real_faces

# name -> (dataset folder under ../shared/datasets, split its checkpoint and temperature were chosen on, classes)
EXPECTED = {"fast": ("fer2013", "PublicTest", 7), "ferplus": ("ferplus", "Valid", 8),
            "default": ("fer2013", "PublicTest", 7), "best": ("fer2013", "PublicTest", 7)}  # fmt: skip


def stored_bytes(name_or_folder) -> int:
    """Bytes of safetensors a model loads from disk: its own, or all its members' for an ensemble (float16 weights
    count as stored, at two bytes each)."""
    from ferkit.models.checkpoint import META, WEIGHTS, read_meta

    folder = resolve_checkpoint(name_or_folder)
    meta = read_meta(folder)
    if meta["arch"] != "ensemble":
        return (folder / WEIGHTS).stat().st_size
    return sum(stored_bytes(folder / m if (folder / m / META).is_file() else m) for m in meta["members"])


def test_the_shipped_names():
    names = shipped_models()
    assert {"fast", "default"} <= set(names)
    assert set(names) - set(ALIASES) <= set(EXPECTED)  # every shipped folder has its expectations below
    assert resolve_checkpoint("default") != resolve_checkpoint("fast")  # its own, wider model
    default, fast = load_model("default"), load_model("fast")
    assert default.arch == fast.arch == "fastnet" and default.meta["metrics"]["val_accuracy"] > 0.69


def test_a_shipped_teacher_loads_by_its_path_but_is_no_model_name():
    """Run 6 ships under weights/teachers/ for the recipes of `default` and `fast` (it left `best` in run 85)."""
    from ferkit.models.checkpoint import SHIPPED

    assert "teachers" not in shipped_models() and not (SHIPPED / "teachers" / "model.json").exists()
    teacher = load_model("teachers/wide48")
    assert teacher.arch == "fastnet" and teacher.meta["arch_args"]["widths"] == [48, 96, 192, 384]
    assert resolve_checkpoint("teachers/wide48") == SHIPPED / "teachers" / "wide48"


@pytest.mark.parametrize("name", shipped_models())
def test_loads_by_name_and_describes_itself(name):
    model = load_model(name)
    real = ALIASES.get(name, name)
    dataset, split, classes = EXPECTED[real]
    assert len(model.classes) == classes and model.meta["metrics"]["val_split"] == split
    assert 0.3 < model.temperature < 3 and model.meta["calibration"]["split"] == split
    assert stored_bytes(name) <= 25_000_000  # issue 12: each shipped model at most 25 MB


@pytest.mark.parametrize("name", [n for n in shipped_models() if n not in ALIASES])
def test_onnx_export_equals_pytorch_on_random_and_real_faces(name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path, diff = export_onnx(name, tmp_path / f"{name}.onnx")
    assert diff <= TOLERANCE
    model = load_model(name)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    s = model.preprocessing.input_size
    assert max_difference(model, session, normalize(to_uint8_tensor(real_faces()), model.preprocessing)) <= TOLERANCE
    assert max_difference(model, session, torch.randn(5, model.preprocessing.channels, s, s) * 3) <= TOLERANCE


@pytest.mark.parametrize("name", [n for n in shipped_models() if n not in ALIASES])
def test_reproduces_its_recorded_validation_accuracy(name, shared):
    from ferkit.data import load_dataset
    from ferkit.engine.evaluate import evaluate

    dataset, split, _ = EXPECTED[name]
    model = load_model(name)
    report = evaluate([model], load_dataset(shared / dataset), [split], "none", name)
    assert report["splits"][split]["accuracy"] == pytest.approx(model.meta["metrics"]["val_accuracy"], abs=1e-3)


def test_every_weight_file_is_in_the_package_data():
    """A wheel carries only what pyproject's package-data names: an ensemble's own members must be among it."""
    import tomllib
    from pathlib import Path

    from ferkit.models.checkpoint import SHIPPED

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["ferkit"]
    package = SHIPPED.parent
    files = [p.relative_to(package) for p in SHIPPED.rglob("*") if p.is_file()]
    assert any(len(f.parts) > 3 for f in files)  # weights/best/members/... exists
    missing = [str(f) for f in files if not any(f.match(pattern) and len(f.parts) == len(Path(pattern).parts)
                                                 for pattern in patterns)]  # fmt: skip
    assert missing == []

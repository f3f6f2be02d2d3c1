"""Models shipped inside the package load by name and reproduce their recorded numbers."""

import pytest

from ferkit.models import load_model
from ferkit.models.checkpoint import SHIPPED


def test_fast_loads_by_name_and_describes_itself():
    model = load_model("fast")
    assert model.arch == "fastnet" and len(model.classes) == 7 and model.preprocessing.crop == 40
    assert 0.5 < model.temperature < 2 and model.meta["metrics"]["val_split"] == "PublicTest"
    assert sum(p.numel() for p in model.parameters()) <= 1_500_000
    assert (SHIPPED / "fast" / "model.safetensors").stat().st_size < 25 * 2**20


@pytest.mark.shared
def test_fast_reproduces_its_recorded_public_test_accuracy(shared):
    from ferkit.data import load_dataset
    from ferkit.engine.evaluate import evaluate

    model = load_model("fast")
    report = evaluate([model], load_dataset(shared / "fer2013"), ["PublicTest"], "none", "fast")
    assert report["splits"]["PublicTest"]["accuracy"] == pytest.approx(model.meta["metrics"]["val_accuracy"], abs=1e-3)

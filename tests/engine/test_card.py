"""The model card says what each part of an ensemble sees: a mixed-size ensemble names the sides its members get."""

from ferkit.engine.card import checkpoint_metas, write_model_card

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def single(size: int, crop: int) -> dict:
    return {"arch": "fastnet", "arch_args": {"widths": [8]}, "classes": CLASSES,
            "preprocessing": {"size": size, "crop": crop}}  # fmt: skip


def ensemble(*members: str, size: int = 48, crop: int = 40) -> dict:
    return {"arch": "ensemble", "members": list(members), "preprocessing": {"size": size, "crop": crop},
            "calibration": {"temperature": 0.9, "split": "PublicTest"}, "metrics": {"val_accuracy": 0.7}}  # fmt: skip


REPORT = {"model": "m", "tta": "none", "splits": {}}


def test_a_mixed_size_ensemble_card_names_the_sides_its_members_see(tmp_path):
    metas = [ensemble("a", "b"), single(64, 54), single(48, 40)]
    card = write_model_card(REPORT, metas, {}, tmp_path).read_text()
    assert "its input is the 40-pixel view of its smallest member, resized (upsampled)" in card
    assert "(40, 54 pixels)" in card


def test_a_same_size_ensemble_card_says_nothing_of_resizing(tmp_path):
    metas = [ensemble("a", "b"), single(48, 40), single(48, 40)]
    assert "resized" not in write_model_card(REPORT, metas, {}, tmp_path).read_text()


def test_a_nested_ensemble_counts_only_its_own_members(tmp_path):
    # outer(inner(48/40, 48/40), 72/60): the inner ensemble is same-size, the outer one mixed
    metas = [ensemble("inner", "c"), ensemble("a", "b"), single(48, 40), single(48, 40), single(72, 60)]
    lines = [line for line in write_model_card(REPORT, metas, {}, tmp_path).read_text().splitlines()
             if line.startswith("- ensemble of")]  # fmt: skip
    assert "(40, 60 pixels)" in lines[0] and "resized" not in lines[1]


def test_checkpoint_metas_lists_an_ensemble_then_its_members_depth_first():
    class Leaf:
        def __init__(self, meta):
            self.meta = meta

    class Group(Leaf):
        def __init__(self, meta, members):
            super().__init__(meta)
            self.members = members

    inner = Group({"id": "inner"}, [Leaf({"id": "a"}), Leaf({"id": "b"})])
    model = Group({"id": "outer"}, [inner, Leaf({"id": "c"})])
    assert [m["id"] for m in checkpoint_metas(model)] == ["outer", "inner", "a", "b", "c"]

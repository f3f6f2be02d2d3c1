import pytest

from ferkit.config import load_config, save_config
from ferkit.errors import FerkitError


def test_defaults_yaml_overrides_and_fields_apply_in_order(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lr: 0.2\n  epochs: 3\nmodel:\n  name: vgg\n  args: {dropout: 0.1}\nout: runs/x\n")
    cfg = load_config(path, ["train.lr=0.3", "augment.flip=false"], **{"train.epochs": 5, "model.name": None})
    assert (cfg.train.lr, cfg.train.epochs, cfg.model.name, cfg.augment.flip) == (0.3, 5, "vgg", False)
    assert cfg.model.args == {"dropout": 0.1} and cfg.out == "runs/x"
    save_config(cfg, tmp_path / "resolved.yaml")
    assert load_config(tmp_path / "resolved.yaml").to_dict() == cfg.to_dict()  # the saved config reproduces


@pytest.mark.parametrize(
    "text, message",
    [
        ("train:\n  lrr: 0.1\n", "unknown config key 'train.lrr'; did you mean 'train.lr'?"),
        ("trian:\n  lr: 0.1\n", "unknown config key 'trian.lr'; did you mean 'train.lr'?"),
        ("train:\n  epochs: many\n", "wants int, got 'many'"),
        ("train: 3\n", "train must be a mapping"),
        ("- a\n- b\n", "a config is a mapping"),
        ("train: [unclosed\n", "cannot read the config"),
    ],
)
def test_bad_config_files_fail_clearly(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(FerkitError, match=message.replace("?", r"\?").replace("[", r"\[")):
        load_config(path)


def test_bad_overrides_fail_clearly():
    with pytest.raises(FerkitError, match="did you mean 'train.lr'"):
        load_config(overrides=["lr=0.1"])
    with pytest.raises(FerkitError, match="should look like section.key=value"):
        load_config(overrides=["train.lr"])
    with pytest.raises(FerkitError, match="wants bool"):
        load_config(overrides=["augment.flip=3"])

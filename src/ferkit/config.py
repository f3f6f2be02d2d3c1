"""Training configuration as dataclasses, read from YAML with command-line overrides.

Every run writes its resolved config (`config.yaml`) beside its outputs, so any number can be reproduced.
Unknown keys fail with a suggestion of the nearest known one.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ferkit.errors import FerkitError


@dataclass
class DataConfig:
    path: str = ""
    format: str = "auto"
    fer2013: str | None = None  # FER2013's CSV, for FER+ labels not stored beside it
    train_split: str | None = None  # default: the dataset's training split (Training, Train)
    val_split: str | None = None  # default: its validation split (PublicTest, Valid); never a test split
    val_fraction: float = 0.1  # held out of training (by class) when the dataset has no validation split
    soft_labels: bool = True  # train on FER+ vote distributions when the dataset has them
    ferplus_votes: str | None = None  # FER+'s fer2013new.csv: its votes join FER2013's labels as soft targets
    ferplus_weight: float = 0.5  # target = (1 - w) * one-hot(FER2013 label) + w * FER+ votes over the 7 classes


@dataclass
class ModelConfig:
    name: str = "fastnet"
    args: dict = field(default_factory=dict)  # passed to the architecture's factory
    size: int = 48  # faces are resized to size x size ...
    crop: int = 0  # ... then cropped to crop x crop (0: no crop), randomly in training, centred otherwise
    init: str | None = None  # start from this checkpoint (a different class count replaces the head)
    freeze_epochs: int = 0  # train only the head for this many epochs first


@dataclass
class AugmentConfig:
    pad: int = 4  # random crop after padding this much (used when model.crop is 0)
    resized_crop: float = 0.0  # > 0: random resized crop keeping at least this fraction of the area
    flip: bool = True
    rotate: float = 10.0  # degrees, either way
    shift: float = 0.05  # fraction of the side, either way
    scale: float = 0.1  # relative zoom, either way
    erase: float = 0.25  # probability of random erasing per image
    mixup: float = 0.0  # > 0: blend pairs of images and their labels, weight ~ Beta(mixup, mixup)
    cutmix: float = 0.0  # > 0: paste a box from another image, area share ~ Beta(cutmix, cutmix)
    mix_prob: float = 1.0  # fraction of batches mixed (when both are on, each mixed batch picks one)


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd (Nesterov momentum) | adamw
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"  # cosine | onecycle | plateau | constant
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    balance: str = "none"  # none | weights (class-weighted loss) | sampler (class-balanced sampling)
    ema: float = 0.0  # decay of an exponential moving average of the weights; 0 turns it off
    teacher: str | None = None  # knowledge distillation from this checkpoint, or the average of "a,b,c"
    kd_weight: float = 0.5  # the loss is (1 - kd_weight) * label loss + kd_weight * distillation loss
    kd_temperature: float = 2.0  # both sides' logits are divided by it; the KL term is scaled by its square
    # kl: Hinton's KL term | dkd: decoupled KD, target and non-target parts weighted dkd_alpha / dkd_beta (Zhao et
    # al. 2022) | standardized: the KL term on z-scored logits (Sun et al. 2024)
    kd_loss: str = "kl"
    dkd_alpha: float = 1.0
    dkd_beta: float = 8.0
    teacher_flip: bool = False  # the teacher also sees the batch mirrored; its soft targets average both views
    # the teacher's soft targets computed once, on each un-augmented training face with this TTA (none | flip | tencrop
    # | multiscale) and cached in the run folder, instead of on every augmented batch; None: on every batch
    teacher_cache_tta: str | None = None
    precision: str = "auto"  # auto (bf16 where the GPU or CPU supports it) | bf16 | fp32; weights stay fp32
    # the teacher's forward passes (cached targets included, which are keyed by it): same (as precision) | auto | bf16
    # | fp32; a student may train in fp32 from targets its teachers computed in bf16, about 3x faster
    teacher_precision: str = "same"
    channels_last: bool = True
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    patience: int = 0  # stop after this many epochs without a better validation accuracy; 0: never
    time_limit: float = 0.0  # minutes; stop after the epoch that crosses it; 0: no limit


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    out: str = "runs/train"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


SECTIONS = {"data": DataConfig, "model": ModelConfig, "augment": AugmentConfig, "train": TrainConfig}


def _known_keys() -> list[str]:
    return ["out", *(f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in dataclasses.fields(cls))]


def _unknown(key: str) -> FerkitError:
    close = difflib.get_close_matches(key, _known_keys(), n=1, cutoff=0.5)
    if not close:  # a bare field name given without its section
        close = [k for k in _known_keys() if k.endswith("." + key)][:1]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return FerkitError(f"unknown config key {key!r}{hint}")


def _coerce(key: str, value):
    """Check a value against the field's type; whole numbers are accepted for float fields."""
    section, name = key.split(".")
    hint = typing.get_type_hints(SECTIONS[section])[name]
    allowed = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    for t in allowed:
        if t is type(None) and value is None:
            return None
        if t is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if t in (int, str, bool, dict) and isinstance(value, t) and not (t is int and isinstance(value, bool)):
            return value
    names = " or ".join(getattr(t, "__name__", str(t)) for t in allowed)
    raise FerkitError(f"config key {key!r} wants {names}, got {value!r}")


def set_value(cfg: Config, key: str, value) -> None:
    """Set a dotted key ("train.lr") on the config, with type checking."""
    if key == "out":
        cfg.out = str(value)
        return
    if key == "train.amp":  # configs written before train.precision replaced it
        key, value = "train.precision", "auto" if value else "fp32"
    section, _, name = key.partition(".")
    if section not in SECTIONS or name not in {f.name for f in dataclasses.fields(SECTIONS[section])}:
        raise _unknown(key)
    setattr(getattr(cfg, section), name, _coerce(key, value))


def load_config(path: str | Path | None = None, overrides: list[str] | None = None, **fields) -> Config:
    """Defaults, then the YAML file, then `overrides` ("train.lr=0.1"), then keyword fields ("train.lr": 0.1)."""
    cfg = Config()
    if path:
        try:
            doc = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise FerkitError(f"{path}: cannot read the config ({exc})") from None
        if not isinstance(doc, dict):
            raise FerkitError(f"{path}: a config is a mapping of sections (data, model, augment, train) and out")
        for section, values in doc.items():
            if section == "out":
                set_value(cfg, "out", values)
            elif isinstance(values, dict):
                for name, value in values.items():
                    set_value(cfg, f"{section}.{name}", value)
            elif section not in SECTIONS:
                raise _unknown(str(section))
            else:
                raise FerkitError(f"{path}: {section} must be a mapping of keys to values")
    for item in overrides or []:
        key, sep, text = item.partition("=")
        if not sep:
            raise FerkitError(f"override {item!r} should look like section.key=value, e.g. train.lr=0.1")
        set_value(cfg, key.strip(), yaml.safe_load(text))
    for key, value in fields.items():
        if value is not None:
            set_value(cfg, key, value)
    return cfg


def save_config(cfg: Config, path: str | Path) -> None:
    from ferkit.fileio import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(cfg.to_dict(), sort_keys=False))

"""Knowledge distillation: the KD loss, the frozen teacher, and its soft targets — computed on every augmented batch
(online) or once per training face with test-time augmentation and cached, in the run folder and in ferkit's cache
folder, where a later run with the same teachers (by their weights), TTA, temperature, precision and data finds them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from ferkit.config import Config
from ferkit.data.cache import cache_dir
from ferkit.engine.precision import autocast
from ferkit.errors import FerkitError
from ferkit.fileio import atomic_path
from ferkit.models import load_model
from ferkit.models.ensemble import Ensemble, input_geometry
from ferkit.models.fuse import fuse_batchnorm
from ferkit.models.predict import TTA_MODES, tta_views
from ferkit.preprocess import Preprocessing, standardize, to_unit

TEACHER_TARGETS = "teacher_targets.safetensors"
KD_LOSSES = ("kl", "dkd", "standardized")


def kd_loss(student: torch.Tensor, p_teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 * KL(p_teacher || softmax(student / T)): student (B, K) logits, p_teacher (B, K) softened probabilities."""
    log_student = F.log_softmax(student / temperature, 1)
    kl = (p_teacher * (p_teacher.clamp_min(1e-12).log() - log_student)).sum(1)  # (B,)
    return kl.mean() * temperature**2


def zscored(logits: torch.Tensor) -> torch.Tensor:
    """(B, K) logits shifted and scaled to mean 0 and standard deviation 1 along the classes."""
    mean, std = logits.mean(1, keepdim=True), logits.std(1, keepdim=True)
    return (logits - mean) / (std + 1e-7)


def standardized_kd_loss(student: torch.Tensor, p_teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Sun et al.'s (CVPR 2024) logit-standardised KD: the KL term on z-scored logits, so that a small student matches
    how the teacher ranks and spaces the classes, not its logits' range. The teacher's logits are the log of its
    softened probabilities: their shift and scale (1/T) are what z-scoring removes, so any cache temperature gives
    the same targets. student (B, K) logits, p_teacher (B, K) softened probabilities."""
    p_standard = torch.softmax(zscored(p_teacher.clamp_min(1e-12).log()) / temperature, 1)  # (B, K)
    return kd_loss(zscored(student), p_standard, temperature)


def dkd_parts(student: torch.Tensor, p_teacher: torch.Tensor, labels: torch.Tensor,
              temperature: float) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Zhao et al.'s (CVPR 2022) two parts of the KL term, per face: (B,) target-class KD, the KL between the binary
    (label, rest) splits of both distributions, and (B,) non-target KD, the KL among the other classes renormalised.
    Hinton's KL is TCKD + (1 - p_label) * NCKD: a confident teacher all but silences what it knows of the others."""
    target = F.one_hot(labels, student.shape[1]).bool()  # (B, K)
    log_q = F.log_softmax(student / temperature, 1)  # (B, K)
    log_q_label = log_q[target]  # (B,)
    log_q_rest = torch.logsumexp(log_q.masked_fill(target, float("-inf")), 1)  # (B,) log(1 - q_label)
    p = p_teacher.clamp_min(1e-12)
    p_label = p[target].clamp(max=1 - 1e-6)  # (B,)
    tckd = p_label * (p_label.log() - log_q_label) + (1 - p_label) * ((1 - p_label).log() - log_q_rest)
    p_others = p.masked_fill(target, 0) / (1 - p_label)[:, None]  # (B, K), 0 at the label
    log_q_others = log_q - log_q_rest[:, None]  # (B, K) the student's renormalised non-target log-probabilities
    nckd = (p_others * (p_others.clamp_min(1e-12).log() - log_q_others)).masked_fill(target, 0).sum(1)
    return tckd, nckd


def dkd_loss(student: torch.Tensor, p_teacher: torch.Tensor, labels: torch.Tensor, temperature: float,
             alpha: float, beta: float) -> torch.Tensor:  # fmt: skip
    """Decoupled KD: T^2 * mean(alpha * TCKD + beta * NCKD), the non-target part given a weight of its own."""
    tckd, nckd = dkd_parts(student, p_teacher, labels, temperature)
    return (alpha * tckd + beta * nckd).mean() * temperature**2


def kd_term(student: torch.Tensor, p_teacher: torch.Tensor, labels: torch.Tensor, train_cfg) -> torch.Tensor:
    """The distillation term that train.kd_loss names, from the student's (B, K) logits, the teacher's softened (B, K)
    probabilities and the (B,) labels (for DKD's target class)."""
    temperature = train_cfg.kd_temperature
    if train_cfg.kd_loss == "dkd":
        return dkd_loss(student, p_teacher, labels, temperature, train_cfg.dkd_alpha, train_cfg.dkd_beta)
    if train_cfg.kd_loss == "standardized":
        return standardized_kd_loss(student, p_teacher, temperature)
    return kd_loss(student, p_teacher, temperature)


def softened(teachers: list[torch.Tensor], temperature: float) -> torch.Tensor:
    """The average of several (B, K) logits' softmax at temperature T: (B, K)."""
    return torch.stack([torch.softmax(t.float() / temperature, 1) for t in teachers]).mean(0)


def check_teacher_options(cfg: Config) -> None:
    """Options that only mean something with a teacher, or only together, refused rather than silently ignored."""
    train = cfg.train
    if not train.teacher:
        for option in ("teacher_flip", "teacher_cache_tta"):
            if getattr(train, option):  # it would change nothing; say so rather than let the run look distilled
                raise FerkitError(f"train.{option} needs a teacher: add --teacher CKPT[,CKPT...]")
        if train.teacher_precision != "same":
            raise FerkitError("train.teacher_precision needs a teacher: add --teacher CKPT[,CKPT...]")
        return
    if not 0 <= train.kd_weight <= 1 or train.kd_temperature <= 0:
        raise FerkitError("train.kd_weight must be in [0, 1] and train.kd_temperature above 0")
    if train.kd_loss not in KD_LOSSES:
        raise FerkitError(f"train.kd_loss must be one of {', '.join(KD_LOSSES)}, not {train.kd_loss!r}")
    if train.kd_loss == "dkd" and (train.dkd_alpha < 0 or train.dkd_beta < 0):
        # a negative weight would reward the student for moving away from its teachers
        raise FerkitError("train.dkd_alpha and train.dkd_beta must be 0 or more, "
                          f"not {train.dkd_alpha} and {train.dkd_beta}")  # fmt: skip
    if train.kd_loss == "dkd" and (cfg.augment.mixup > 0 or cfg.augment.cutmix > 0):
        raise FerkitError("train.kd_loss = dkd needs each face's one label class, which mixup / CutMix blend: "
                          "set augment.mixup and augment.cutmix to 0, or use kl")  # fmt: skip
    if train.teacher_cache_tta is not None and train.teacher_cache_tta not in TTA_MODES:
        raise FerkitError(f"train.teacher_cache_tta must be one of {', '.join(TTA_MODES)}, "
                          f"not {train.teacher_cache_tta!r}")  # fmt: skip
    if train.teacher_cache_tta and train.teacher_flip:
        raise FerkitError(
            "train.teacher_flip is for a teacher run on each batch; with train.teacher_cache_tta "
            "the cached targets' TTA says which views the teacher sees (flip includes the mirror)"
        )


def load_teacher(cfg: Config, classes: tuple[str, ...], prep, device: torch.device) -> Ensemble | None:
    """The teacher(s) of --teacher as one frozen Ensemble. Run on each batch it takes the student's input (same size,
    crop and channels, re-standardised); with train.teacher_cache_tta it sees each face once, on its own input, so the
    student may crop, resize or colour its faces differently."""
    check_teacher_options(cfg)
    if not cfg.train.teacher:
        return None
    names = [n.strip() for n in cfg.train.teacher.split(",") if n.strip()]
    members = [load_model(n) for n in names]
    if not cfg.train.teacher_cache_tta:
        _check_same_input(names, members, prep)
    teacher = Ensemble(members, preprocessing=None if cfg.train.teacher_cache_tta else prep)
    if tuple(teacher.classes) != tuple(classes):
        raise FerkitError(f"the teacher's classes {teacher.classes} are not the training data's {tuple(classes)}")
    teacher = fuse_batchnorm(teacher)  # eval-only: batch norm folded into the convs, a faster forward on every batch
    for p in teacher.parameters():
        p.requires_grad_(False)
    if cfg.train.channels_last:  # the student's batches are channels_last; a teacher in NCHW would convert each layer
        teacher = teacher.to(memory_format=torch.channels_last)
    return teacher.to(device).eval()


def _check_same_input(names: list[str], members: list[torch.nn.Module], prep: Preprocessing) -> None:
    """A teacher run on the student's batches must take the student's input: refused, with the way out, if not."""
    ours = input_geometry(prep)
    for name, member in zip(names, members):
        theirs = input_geometry(member.preprocessing)
        if theirs != ours:
            raise FerkitError(
                f"teacher {name} takes {theirs[1]}x{theirs[1]} crops of {theirs[0]}-pixel faces with {theirs[2]} "
                f"channel(s), the student {ours[1]}x{ours[1]} of {ours[0]} with {ours[2]}: a teacher run on each "
                "batch sees the student's input, so give it the same model.size, model.crop and channels, or set "
                "train.teacher_cache_tta to compute its targets once, on its own input"
            )


def teach(run, x: torch.Tensor) -> list[torch.Tensor]:
    """The teacher's logits for the batch x (B, C, S, S): one (B, K) per member, and with train.teacher_flip one more
    per member for the mirrored batch, so that softened() averages the members' flip-TTA soft targets."""
    views = torch.cat([x, x.flip(3)]) if run.cfg.train.teacher_flip else x  # (V*B, C, S, S), V = 1 or 2
    if run.cfg.train.channels_last:
        views = views.contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), autocast(run.teacher_precision, run.device):
        logits = run.teacher.member_logits(views)  # M x (V*B, K), one forward per member for both views
    return [view for member in logits for view in member.split(len(x))]


@torch.no_grad()
def teacher_targets(teacher: Ensemble, images: torch.Tensor, prep: Preprocessing, tta: str, temperature: float,
                    precision: str = "fp32", batch_size: int = 256) -> torch.Tensor:  # fmt: skip
    """(N, K) soft targets for uint8 faces (N, C, H, W), un-augmented: the members' softmax(logits / T) averaged over
    members and the TTA views, what softened() would average had the teacher seen those views as a batch."""
    device = next(teacher.parameters()).device
    channels_last = next(teacher.parameters()).is_contiguous(memory_format=torch.channels_last)
    out = []
    for start in tqdm(range(0, len(images), batch_size), desc=f"teacher targets ({tta})", leave=False):
        x = to_unit(images[start : start + batch_size].to(device), prep)  # (B, C, size, size) in [0, 1]
        logits = []
        for view in tta_views(x, prep, tta):
            view = standardize(view.contiguous(), prep)  # (B, C, S, S)
            if channels_last:
                view = view.contiguous(memory_format=torch.channels_last)
            with autocast(precision, device):
                logits += teacher.member_logits(view)
        out.append(softened(logits, temperature).cpu())
    return torch.cat(out) if out else torch.zeros(0, len(teacher.classes))


def cached_teacher_targets(run, teacher: Ensemble) -> torch.Tensor:
    """The training split's soft targets under train.teacher_cache_tta, on run.device: from the run folder (a resumed
    run) or ferkit's cache folder (another run with the same teachers) when made for this key, else computed now and
    saved in both."""
    cfg = run.cfg.train
    key = {"teacher": cfg.teacher, "weights": weights_fingerprint(teacher), "tta": cfg.teacher_cache_tta,
           "temperature": cfg.kd_temperature, "precision": run.teacher_precision, "data": run.fingerprint,
           "n": len(run.train.labels)}  # fmt: skip
    found = {path: _load_targets(path, key) for path in [Path(run.out) / TEACHER_TARGETS, *shared_targets_path(key)]}
    targets = next((t for t in found.values() if t is not None), None)
    if targets is None:
        run.log(f"teacher targets: {cfg.teacher} with {cfg.teacher_cache_tta} TTA on {key['n']} training faces")
        # the teacher's own preprocessing: targets depend on the faces and the teacher, never on the student's crop
        # (so the key needs no student input; before the teacher had its own, the two had to match anyway)
        targets = teacher_targets(teacher, run.train.images, teacher.preprocessing, cfg.teacher_cache_tta,
                                  cfg.kd_temperature, run.teacher_precision)  # fmt: skip
    for path in (p for p, t in found.items() if t is None and run.rank == 0):
        _save_targets(path, key, targets)
    return targets.to(run.device)


def weights_fingerprint(model: torch.nn.Module) -> str:
    """A hash of every tensor of the model's state (names, dtypes, shapes, values): a retrained teacher at the same
    path gets new targets, a copy of the same weights anywhere finds the old ones."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())  # raw bytes of any dtype, bf16 too
    return digest.hexdigest()[:20]


def shared_targets_path(key: dict) -> list[Path]:
    """[the cache folder's file for this key], or [] when $FERKIT_NO_CACHE turns ferkit's disk caches off."""
    if os.environ.get("FERKIT_NO_CACHE"):
        return []
    name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return [cache_dir() / "teacher_targets" / f"{name}.safetensors"]


def _save_targets(path: Path, key: dict, targets: torch.Tensor) -> None:
    """Write the targets with their key, atomically; a cache folder that cannot be written is skipped, not fatal."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            save_file({"targets": targets.contiguous()}, str(tmp), metadata={"key": json.dumps(key)})
    except OSError:
        if path.name == TEACHER_TARGETS:  # the run folder must take it; the shared cache is only a convenience
            raise


def _load_targets(path: Path, key: dict) -> torch.Tensor | None:
    """Cached targets whose key matches, or None (absent, unreadable or made for another teacher or data)."""
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), "pt") as f:
            if json.loads((f.metadata() or {}).get("key", "null")) != key:
                return None
        return load_file(str(path))["targets"]
    except (SafetensorError, OSError, KeyError, ValueError):
        return None

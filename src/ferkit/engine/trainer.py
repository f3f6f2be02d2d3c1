"""`train(cfg)`: the fixed training loop. Data live as uint8 tensors on the device and are augmented there;
each epoch draws its order and augmentation from a generator seeded by (seed, epoch), so a resumed run repeats
an uninterrupted one exactly on the CPU. Logging, checkpoints and early stopping hang off the epoch's end."""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from ferkit import __version__
from ferkit.config import Config, save_config
from ferkit.engine import data as data_mod
from ferkit.engine.augment import augment, mix_batch
from ferkit.engine.calibration import calibration_effect, fit_temperature
from ferkit.engine.distill import cached_teacher_targets, kd_term, load_teacher, softened, teach
from ferkit.engine.log import EpochLog
from ferkit.engine.precision import autocast, resolve_precision, resolve_teacher_precision
from ferkit.engine.state import find_state, load_state, save_state
from ferkit.errors import FerkitError
from ferkit.models import create_model, load_model, save_checkpoint
from ferkit.models.predict import predict_logits
from ferkit.models.registry import accepts
from ferkit.preprocess import fit_preprocessing


@dataclass
class TrainResult:
    out: Path
    best: Path
    best_accuracy: float
    best_epoch: int
    epochs_run: int
    seconds: float
    history: list[dict] = field(default_factory=list)


class EMA:
    """Exponential moving average of a model's weights (buffers copied), for a smoother final model."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.model, self.decay = copy.deepcopy(model).eval(), decay
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for e, p in zip(self.model.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)
            else:
                e.copy_(p)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise FerkitError("--device cuda asked for, but PyTorch sees no CUDA GPU here")
    return torch.device(name)


_OWN_GROUP: list[bool] = []  # non-empty once this process started the process group (and so must end it)


def setup_distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """(rank, world size, device) under torchrun (WORLD_SIZE > 1); (0, 1, device) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, device
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        _OWN_GROUP.append(True)
    rank, local = dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    return rank, world, device


def build_model(cfg: Config, classes: tuple[str, ...], prep, channels: int) -> torch.nn.Module:
    """A fresh registered model, or one initialised from a checkpoint (--init) with its head replaced when the
    classes differ."""
    if cfg.model.init:
        model = load_model(cfg.model.init)
        if tuple(model.classes) != tuple(classes):
            model.reset_head(len(classes))
        return model.train()
    kwargs = dict(cfg.model.args)
    if accepts(cfg.model.name, "input_size"):
        kwargs.setdefault("input_size", prep.input_size)
    return create_model(cfg.model.name, num_classes=len(classes), in_chans=channels, **kwargs)


def make_optimizer(model: torch.nn.Module, cfg: Config) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum or AdamW; no weight decay on biases and batch-norm parameters."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    other = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.train.weight_decay}, {"params": other, "weight_decay": 0.0}]
    if cfg.train.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.train.lr, momentum=cfg.train.momentum, nesterov=True)
    if cfg.train.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.train.lr)
    raise FerkitError(f"train.optimizer must be sgd or adamw, not {cfg.train.optimizer!r}")


def lr_factor(cfg: Config, step: int, total: int, warmup: int) -> float:
    """The schedule's multiplier of the base learning rate at a step (plateau scaling is applied on top)."""
    kind = cfg.train.schedule
    if kind == "onecycle":
        warmup = max(warmup, int(0.3 * total))
    if step < warmup:
        return (step + 1) / warmup
    if kind in ("constant", "plateau"):
        return 1.0
    if kind in ("cosine", "onecycle"):
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    raise FerkitError(f"train.schedule must be cosine, onecycle, plateau or constant, not {kind!r}")


def loss_fn(logits, labels, soft, class_weights, smoothing: float) -> torch.Tensor:
    if soft is None:
        return F.cross_entropy(logits, labels, weight=class_weights, label_smoothing=smoothing)
    target = soft * (1 - smoothing) + smoothing / soft.shape[1]
    loss = -(target * F.log_softmax(logits, 1)).sum(1)  # (B,)
    if class_weights is not None:
        loss = loss * class_weights[labels]
    return loss.mean()


def epoch_order(train: data_mod.Split, cfg: Config, gen: torch.Generator, rank: int, world: int) -> torch.Tensor:
    """This rank's sample order for the epoch: a permutation, or class-balanced draws with replacement."""
    n = len(train.labels)
    if cfg.train.balance == "sampler":
        counts = torch.bincount(train.labels.cpu(), minlength=int(train.labels.max()) + 1).float()
        weights = (1.0 / counts.clamp(min=1))[train.labels.cpu()]
        order = torch.multinomial(weights, n, replacement=True, generator=gen)
    else:
        order = torch.randperm(n, generator=gen)
    per_rank = n // world  # every rank takes the same number of batches, so DDP's all-reduces line up
    return order[rank * per_rank : (rank + 1) * per_rank] if world > 1 else order


class Run:
    """One training run's state, so the loop below reads as the steps it takes."""

    def __init__(self, cfg: Config, log=print, dataset=None) -> None:
        self.cfg, self.log = cfg, log
        self.out = Path(cfg.out)
        device = resolve_device(cfg.train.device)
        self.rank, self.world, self.device = setup_distributed(device)
        self.precision = resolve_precision(cfg.train.precision, self.device)
        self.teacher_precision = resolve_teacher_precision(cfg.train.teacher_precision, self.precision, self.device)
        torch.manual_seed(cfg.train.seed)
        ds = dataset if dataset is not None else data_mod.load_training_data(cfg.data)
        train_ds, val_ds, self.val_name = data_mod.training_splits(ds, cfg.data, cfg.train.seed)
        self.classes = ds.classes
        self.prep = fit_preprocessing(train_ds.images, cfg.model.size, cfg.model.crop)
        self.train = data_mod.to_split(train_ds, train_ds.split_names[0], self.device, cfg.data.soft_labels)
        self.val = data_mod.to_split(val_ds, self.val_name, self.device, False)
        self.fingerprint = data_mod.fingerprint(train_ds, val_ds)
        self.source = {"path": ds.root, "format": ds.format, "train": len(train_ds), "val": len(val_ds)}
        model = build_model(cfg, self.classes, self.prep, self.prep.channels).to(self.device)
        if cfg.train.channels_last:
            model = model.to(memory_format=torch.channels_last)
        model.preprocessing, model.classes = self.prep, self.classes
        self.model = model
        self.ema = EMA(model, cfg.train.ema) if cfg.train.ema > 0 else None
        self.teacher = load_teacher(cfg, self.classes, self.prep, self.device)
        self.teacher_targets = None  # (N, K) the teacher's cached soft targets, when train.teacher_cache_tta is set
        if self.teacher is not None and cfg.train.teacher_cache_tta:
            self.teacher_targets = cached_teacher_targets(self, self.teacher)
            self.teacher = None  # nothing runs it per batch
        self.opt = make_optimizer(model, cfg)
        self.net = (
            torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=cfg.model.freeze_epochs > 0)
            if self.world > 1
            else model
        )
        self.class_weights = self._class_weights() if cfg.train.balance == "weights" else None
        self.steps_per_epoch = max(1, (len(self.train.labels) // self.world) // self.batch_size)
        self.loop = {"epoch": 0, "best_acc": -1.0, "best_epoch": -1, "bad_epochs": 0, "plateau": 1.0,
                     "seconds": 0.0, "history": []}  # fmt: skip

    @property
    def batch_size(self) -> int:
        return max(1, self.cfg.train.batch_size // self.world)

    def _class_weights(self) -> torch.Tensor:
        counts = torch.bincount(self.train.labels, minlength=len(self.classes)).float()
        weights = counts.sum() / (len(self.classes) * counts.clamp(min=1))
        return (weights / weights[counts > 0].mean()).to(self.device)

    def meta(self, metrics: dict) -> dict:
        return {
            "classes": list(self.classes),
            "preprocessing": self.prep.to_dict(),
            "config": self.cfg.to_dict(),
            "metrics": metrics,
            "data": {**self.source, "fingerprint": self.fingerprint, "val_split": self.val_name},
            "training": {
                "seconds": round(self.loop["seconds"], 1),
                "epochs": self.loop["epoch"],
                "device": str(self.device),
                "precision": self.precision,
                "world_size": self.world,
                "torch": torch.__version__,
                "ferkit": __version__,
            },  # fmt: skip
        }

    def eval_model(self) -> torch.nn.Module:
        model = self.ema.model if self.ema is not None else self.model
        model.preprocessing, model.classes = self.prep, self.classes
        return model


def set_frozen(run: Run, epoch: int) -> None:
    """Transfer learning: only the head learns during the first model.freeze_epochs epochs."""
    frozen = epoch < run.cfg.model.freeze_epochs
    for p in run.model.feature_parameters():
        p.requires_grad_(not frozen)


def mix(x, y, soft, cached, run: Run, gen: torch.Generator):
    """Mixup / CutMix of the batch x (B, C, S, S), its label targets and the teacher's cached targets (B, K) or None,
    all with one draw -> (x, label targets, cached targets)."""
    target = soft if soft is not None else F.one_hot(y, len(run.classes)).float()  # (B, K)
    if cached is None:
        return (*mix_batch(x, target, run.cfg.augment, gen), None)
    x, both = mix_batch(x, torch.cat([target, cached], 1), run.cfg.augment, gen)  # mixing is linear: (B, 2K)
    return (x, *both.split(target.shape[1], 1))


def run_epoch(run: Run, epoch: int) -> tuple[float, float, float]:
    """One pass over this rank's share of the training data; returns (mean loss, accuracy, images per second)."""
    cfg, net = run.cfg, run.net
    gen = torch.Generator().manual_seed(cfg.train.seed * 100_003 + epoch)  # order, on the CPU
    aug_gen = torch.Generator(device=run.device).manual_seed(cfg.train.seed * 100_019 + epoch)
    torch.manual_seed(cfg.train.seed * 100_043 + epoch)  # dropout
    order = epoch_order(run.train, cfg, gen, run.rank, run.world).to(run.device)
    total = cfg.train.epochs * run.steps_per_epoch
    warmup = int(cfg.train.warmup_epochs * run.steps_per_epoch)
    net.train()
    loss_sum = correct = seen = 0.0
    started = time.perf_counter()
    bar = tqdm(range(run.steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.train.epochs}", leave=False,
               disable=None if run.rank == 0 else True)  # fmt: skip
    for step in bar:
        idx = order[step * run.batch_size : (step + 1) * run.batch_size]
        x = augment(run.train.images[idx], cfg.augment, run.prep, aug_gen)  # (B, C, S, S)
        if cfg.train.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y, soft = run.train.labels[idx], None if run.train.soft is None else run.train.soft[idx]
        cached = None if run.teacher_targets is None else run.teacher_targets[idx]  # (B, K) or None
        if cfg.augment.mixup > 0 or cfg.augment.cutmix > 0:
            x, soft, cached = mix(x, y, soft, cached, run, aug_gen)
        lr = cfg.train.lr * run.loop["plateau"] * lr_factor(cfg, epoch * run.steps_per_epoch + step, total, warmup)
        for group in run.opt.param_groups:
            group["lr"] = lr
        with autocast(run.precision, run.device):
            logits = net(x)
        loss = loss_fn(logits.float(), y, soft, run.class_weights, cfg.train.label_smoothing)
        kd = None
        if run.teacher is not None:  # the teacher sees the student's very batch, augmentation and mixing included
            kd = kd_term(logits.float(), softened(teach(run, x), cfg.train.kd_temperature), y, cfg.train)
        elif cached is not None:  # the targets of each face's un-augmented views, mixed as the batch was
            kd = kd_term(logits.float(), cached, y, cfg.train)
        if kd is not None:
            loss = (1 - cfg.train.kd_weight) * loss + cfg.train.kd_weight * kd
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        run.opt.step()
        if run.ema is not None:
            run.ema.update(run.model)
        loss_sum += loss.item() * len(y)
        correct += float((logits.argmax(1) == y).sum())
        seen += len(y)
        rate = seen * run.world / (time.perf_counter() - started)
        bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}", lr=f"{lr:.3g}", img_s=f"{rate:.0f}")
    rate = seen * run.world / max(time.perf_counter() - started, 1e-9)  # every rank's images: the run's throughput
    return loss_sum / max(seen, 1), correct / max(seen, 1), rate


def validate(run: Run) -> tuple[float, float, np.ndarray]:
    """(loss, accuracy, logits) on the validation split, with the EMA weights when there are some."""
    logits = predict_logits(run.eval_model(), run.val.images, batch_size=512)
    labels = run.val.labels.cpu().numpy()
    loss = float(F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)))
    return loss, float((logits.argmax(1) == labels).mean()), logits


def end_of_epoch(run: Run, epoch: int, train: tuple[float, float, float], started: float, log: EpochLog) -> bool:
    """Log, checkpoint, schedule and early-stopping bookkeeping; returns True to stop."""
    cfg, loop = run.cfg, run.loop
    train_loss, train_acc, rate = train
    val_loss, val_acc, _ = validate(run)
    loop["seconds"] += time.perf_counter() - started
    loop["epoch"] = epoch + 1
    row = {"epoch": epoch + 1, "lr": run.opt.param_groups[0]["lr"], "train_loss": round(train_loss, 5),
           "train_acc": round(train_acc, 5), "val_loss": round(val_loss, 5), "val_acc": round(val_acc, 5),
           "seconds": round(loop["seconds"], 1), "img_per_s": round(rate)}  # fmt: skip
    loop["history"].append(row)
    improved = val_acc > loop["best_acc"]
    if improved:
        loop.update(best_acc=val_acc, best_epoch=epoch + 1, bad_epochs=0)
    else:
        loop["bad_epochs"] += 1
        if cfg.train.schedule == "plateau" and loop["bad_epochs"] % 3 == 0:
            loop["plateau"] *= 0.5
    if run.rank == 0:
        log.add(row)
        metrics = {"val_accuracy": val_acc, "val_loss": val_loss, "epoch": epoch + 1, "val_split": run.val_name}
        if improved:
            save_checkpoint(run.out / "best", run.eval_model(), run.meta(metrics))
        save_state(run.out / "last", run.model, run.meta(metrics), run.opt, run.ema, loop)
        run.log(f"epoch {epoch + 1}/{cfg.train.epochs}: train loss {train_loss:.4f} acc {train_acc:.4f}, "
                f"{run.val_name} loss {val_loss:.4f} acc {val_acc:.4f}{' *' if improved else ''}, "
                f"{loop['seconds']:.0f} s, {rate:.0f} img/s ({run.precision})")  # fmt: skip
    if cfg.train.patience and loop["bad_epochs"] >= cfg.train.patience:
        run.log(f"early stop: no better {run.val_name} accuracy for {cfg.train.patience} epochs")
        return True
    if cfg.train.time_limit and loop["seconds"] >= cfg.train.time_limit * 60:
        run.log(f"time limit of {cfg.train.time_limit:g} min reached after epoch {epoch + 1}")
        return True
    return False


def calibrate(run: Run) -> dict:
    """Fit the temperature on the validation split with the best weights; store it in the best checkpoint."""
    best = load_model(run.out / "best", run.device)
    logits = predict_logits(best, run.val.images, batch_size=512)
    labels = run.val.labels.cpu().numpy()
    t = fit_temperature(logits, labels)
    calibration = {"temperature": t, "split": run.val_name, **calibration_effect(logits, labels, t)}
    save_checkpoint(run.out / "best", best, {**best.meta, "calibration": calibration})
    return calibration


def weights_checksum(model: torch.nn.Module) -> str:
    import hashlib

    h = hashlib.sha256()
    for value in model.state_dict().values():
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def check_replicas(run: Run) -> dict | None:
    """Under DDP, confirm every rank ended with the same weights (a silent divergence would be a bug)."""
    if run.world == 1:
        return None
    sums: list = [None] * run.world
    dist.all_gather_object(sums, weights_checksum(run.model))
    if len(set(sums)) != 1:
        raise RuntimeError(f"DDP ranks ended with different weights: {sums}")
    return {"world_size": run.world, "weights_identical": True, "checksum": sums[0]}


# What may change between a killed run and its resumption: how long it runs, not what it computes.
RESUMABLE_CHANGES = {"train.epochs", "train.time_limit", "train.patience", "train.device"}


def check_resumable(state: Path, cfg: Config) -> None:
    """Refuse to resume a run under a config that would make it a different run."""
    import json

    saved = json.loads((state / "model.json").read_text()).get("config", {})
    now = cfg.to_dict()
    changed = [f"{section}.{key}" for section, values in now.items() if isinstance(values, dict)
               for key, value in values.items() if saved.get(section, {}).get(key, value) != value]  # fmt: skip
    changed = [k for k in changed if k not in RESUMABLE_CHANGES]
    if changed:
        raise FerkitError(f"cannot resume {state.parent} with a different {', '.join(changed)}; "
                          "use the run's config.yaml or start a new --out")  # fmt: skip


def train(cfg: Config, resume: bool = False, log=print, dataset=None) -> TrainResult:
    """Train as `cfg` says, writing best/, last/, log.csv, curves.png and config.yaml under cfg.out.

    `dataset` (a FaceDataset) replaces reading cfg.data.path, as k-fold cross-validation does for each fold.
    """
    run = Run(cfg, log, dataset)
    run.out.mkdir(parents=True, exist_ok=True)
    if run.rank == 0:
        save_config(cfg, run.out / "config.yaml")
    if resume:
        state = find_state(run.out / "last")
        if state is None:
            raise FerkitError(f"{run.out / 'last'}: nothing to resume; start without --resume")
        check_resumable(state, cfg)
        run.loop = load_state(state, run.net, run.opt, run.ema)
        run.log(f"resuming after epoch {run.loop['epoch']} from {state}")
    epoch_log = EpochLog(run.out, run.loop["history"])
    for epoch in range(run.loop["epoch"], cfg.train.epochs):
        started = time.perf_counter()
        set_frozen(run, epoch)
        trained = run_epoch(run, epoch)
        if run.world > 1:  # batch-norm statistics drift apart per rank; adopt rank 0's, as DDP does each step
            for buffer in run.model.buffers():
                dist.broadcast(buffer, 0)
        stop = end_of_epoch(run, epoch, trained, started, epoch_log)
        if run.world > 1:  # every rank must agree, or the next all-reduce waits forever
            flag = torch.tensor([float(stop)], device=run.device)
            dist.broadcast(flag, 0)
            stop = bool(flag.item())
        if stop:
            break
    replicas = check_replicas(run)
    if run.rank == 0 and run.loop["best_epoch"] > 0:
        calibration = calibrate(run)
        if replicas:
            best_meta = load_model(run.out / "best").meta
            save_checkpoint(run.out / "best", load_model(run.out / "best"), {**best_meta, "ddp": replicas})
        run.log(f"best {run.val_name} accuracy {run.loop['best_acc']:.4f} at epoch {run.loop['best_epoch']}; "
                f"temperature {calibration['temperature']:.3f} (NLL {calibration['nll_before']:.4f} -> "
                f"{calibration['nll_after']:.4f}, ECE {calibration['ece_before']:.4f} -> "
                f"{calibration['ece_after']:.4f}); checkpoint {run.out / 'best'}")  # fmt: skip
    if run.world > 1:
        dist.barrier()
        if _OWN_GROUP:  # gloo's threads left running at exit can abort a rank ("terminate called without ...")
            dist.destroy_process_group()
            _OWN_GROUP.clear()
    return TrainResult(run.out, run.out / "best", run.loop["best_acc"], run.loop["best_epoch"], run.loop["epoch"],
                       run.loop["seconds"], run.loop["history"])  # fmt: skip

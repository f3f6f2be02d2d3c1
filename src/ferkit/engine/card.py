"""The model card: MODEL_CARD.md and model_card.json, written by `ferkit evaluate --out DIR`."""

from __future__ import annotations

import json
from pathlib import Path

from ferkit.fileio import atomic_write_text

LIMITS = [
    "Trained on FER-style data: 48x48 gray, mostly frontal faces from web images. Expect lower accuracy on profile "
    "views, occlusions, children, very low light, and on populations under-represented in the training data.",
    "The labels are single annotators' judgements of posed or spontaneous expressions (FER+ uses 10 annotators); "
    "an expression is not a feeling, and no model can read one.",
    "Accuracy on the validation split chose the checkpoint and fitted the temperature; only a split never used for "
    "either (PrivateTest, FER+ Test, another dataset) measures generalisation.",
]


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def checkpoint_metas(model) -> list[dict]:
    """The metadata a card describes: the model's own, then (for an ensemble) each member's, depth first."""
    members = getattr(model, "members", None)
    return [model.meta] + ([] if members is None else [m for member in members for m in checkpoint_metas(member)])


def _input_side(preprocessing: dict) -> int:
    """The side of the square a model takes: its crop of the resized face, or the face itself."""
    return preprocessing.get("crop") or preprocessing["size"]


def _leaves(metas: list[dict], i: int) -> tuple[list[dict], int]:
    """The single checkpoints under metas[i] in checkpoint_metas' depth-first list, and the index just past it."""
    if "members" not in metas[i]:
        return [metas[i]], i + 1
    leaves, j = [], i + 1
    for _ in metas[i]["members"]:
        found, j = _leaves(metas, j)
        leaves += found
    return leaves, j


def _ensemble_lines(meta: dict, member_metas: list[dict]) -> list[str]:
    cal, metrics = meta.get("calibration", {}), meta.get("metrics", {})
    prep = meta.get("preprocessing", {})
    sides = sorted({_input_side(m["preprocessing"]) for m in member_metas if "preprocessing" in m})
    resized = ""
    if len(sides) > 1:  # a mixed-size ensemble: say which pixels each member really sees
        resized = (f"; its input is the {_input_side(prep)}-pixel view of its smallest member, resized (upsampled) to "
                   f"each other member's own side ({', '.join(map(str, sides))} pixels)")  # fmt: skip
    return [
        f"- ensemble of {len(meta['members'])} checkpoints ({', '.join(meta['members'])}): their calibrated "
        f"probabilities averaged, then a temperature of {cal.get('temperature', 1.0):.3f} fitted on "
        f"{cal.get('split', 'nothing')} ({metrics.get('val_split', '?')} accuracy "
        f"{_pct(metrics['val_accuracy']) if 'val_accuracy' in metrics else '?'}){resized}; its members:",
        "",
    ]


def _distillation_lines(train_config: dict) -> list[str]:
    """A line naming the teachers of a distilled checkpoint (none for one trained on labels alone)."""
    if not train_config.get("teacher"):
        return []
    cached = train_config.get("teacher_cache_tta")
    if cached:
        how = f"soft targets computed once from each un-augmented training face with {cached} TTA"
    else:
        how = "the same augmented batches" + (" and their mirror images" if train_config.get("teacher_flip") else "")
    if train_config.get("teacher_precision", "same") != "same":  # the student's own arithmetic is in the recipe line
        how += f", the teachers computing in {train_config['teacher_precision']}"
    loss = {
        "dkd": f"decoupled KD, alpha {train_config.get('dkd_alpha')} / beta {train_config.get('dkd_beta')}, ",
        "standardized": "logit-standardised KD, ",
    }.get(train_config.get("kd_loss", "kl"), "")
    return [f"- distilled from {train_config['teacher']} ({loss}KD weight {train_config.get('kd_weight')}, "
            f"temperature {train_config.get('kd_temperature')}) on {how}"]  # fmt: skip


def _recipe_lines(config: dict, training: dict) -> list[str]:
    """The choices besides the optimiser that change what a network learns: regularisation, mixing, weight averaging
    and the arithmetic it trained in (none for a checkpoint that does not record its config)."""
    train, augment = config.get("train"), config.get("augment", {})
    if not train:
        return []
    parts = [f"label smoothing {train.get('label_smoothing', 0.0)}", f"weight decay {train.get('weight_decay', '?')}"]
    mixing = [f"{name} {augment[name]}" for name in ("mixup", "cutmix") if augment.get(name)]
    if mixing:
        parts.append(f"{' / '.join(mixing)} on {augment.get('mix_prob', 1.0):.0%} of the batches")
    if train.get("ema"):
        parts.append(f"EMA of the weights, decay {train['ema']} per step (the checkpoint is the average)")
    if training.get("precision"):
        parts.append(f"{training['precision']} arithmetic")
    return ["- " + ", ".join(parts)]


def write_model_card(report: dict, metas: list[dict], plots: dict[str, str], out: Path) -> Path:
    """Markdown for people, JSON for tools; both from the evaluation report and the checkpoints' metadata."""
    out.mkdir(parents=True, exist_ok=True)
    card = {"report": report, "checkpoints": metas, "plots": plots, "limits": LIMITS}
    atomic_write_text(out / "model_card.json", json.dumps(card, indent=2))
    lines = [f"# Model card: {report['model']}", ""]
    for i, meta in enumerate(metas):
        if "members" in meta:
            lines += _ensemble_lines(meta, _leaves(metas, i)[0])
            continue
        train = meta.get("training", {})
        cfg = meta.get("config", {}).get("train", {})
        data = meta.get("data", {})
        cal = meta.get("calibration", {})
        lines += [
            f"- architecture `{meta['arch']}` {meta['arch_args']}, classes: {', '.join(meta['classes'])}",
            f"- trained on {data.get('path', '?')} ({data.get('format', '?')}): {data.get('train', '?')} training "
            f"images, checkpoint chosen on {data.get('val_split', '?')} ({data.get('val', '?')} images), data "
            f"fingerprint {data.get('fingerprint', '?')}",
            f"- {train.get('epochs', '?')} epochs in {train.get('seconds', '?')} s on {train.get('device', '?')}; "
            f"optimizer {cfg.get('optimizer', '?')} lr {cfg.get('lr', '?')}, schedule {cfg.get('schedule', '?')}, "
            f"batch {cfg.get('batch_size', '?')}, seed {cfg.get('seed', '?')}",
            *_recipe_lines(meta.get("config", {}), train),
            *_distillation_lines(cfg),
            f"- preprocessing {meta.get('preprocessing')}; temperature {cal.get('temperature', 1.0):.3f} fitted on "
            f"{cal.get('split', 'nothing')}",
            "",
        ]
    lines += [
        f"## Results (test-time augmentation: {report['tta']})",
        "",
        "| split | n | accuracy | macro-F1 | ECE (calibrated) | ECE (T = 1, no TTA) |",
        "|---|---|---|---|---|---|",
    ]
    for split, r in report["splits"].items():
        lines.append(f"| {split} | {r['n']} | {_pct(r['accuracy'])} | {_pct(r['macro_f1'])} | {r['ece']:.4f} | "
                     f"{r['ece_uncalibrated']:.4f} |")  # fmt: skip
    for split, r in report["splits"].items():
        lines += [
            "",
            f"### {split}: per class",
            "",
            "| class | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for name, s in r["per_class"].items():
            lines.append(
                f"| {name} | {_pct(s['precision'])} | {_pct(s['recall'])} | {_pct(s['f1'])} | {s['support']} |"
            )
        for kind in ("confusion", "reliability"):
            if f"{kind}_{split}" in plots:
                lines += ["", f"![{kind} {split}]({plots[f'{kind}_{split}']})"]
    lines += ["", "## Known limits", "", *[f"- {limit}" for limit in LIMITS], ""]
    atomic_write_text(out / "MODEL_CARD.md", "\n".join(lines))
    return out / "MODEL_CARD.md"

"""What a dataset holds: split x class counts, image size and mode, and the problems met reading it."""

from __future__ import annotations

import hashlib

from ferkit.data.dataset import FaceDataset

MAX_PROBLEMS_SHOWN = 20


def dataset_report(ds: FaceDataset) -> dict:
    """The `ferkit data info --json` object."""
    return {
        "format": ds.format,
        "path": ds.root,
        "n": len(ds),
        "classes": list(ds.classes),
        "image_size": list(ds.image_shape[:2]),
        "mode": ds.mode,
        "splits": ds.counts(),
        "excluded": ds.excluded,
        "duplicates": duplicate_report(ds),
        "problems": [p.to_dict() for p in ds.problems],
    }


def format_report(report: dict) -> str:
    """The report as a table a person reads: a row per class, a column per split."""
    splits = list(report["splits"])
    h, w = report["image_size"]
    lines = [
        f"{report['path']}",
        f"format {report['format']}, {report['n']} images of {w}x{h} pixels, mode {report['mode']}",
        "",
    ]
    width = max([len("class"), *map(len, report["classes"]), len("total")]) + 2
    cols = [max(len(s), 7) + 2 for s in splits]
    lines.append("class".ljust(width) + "".join(s.rjust(c) for s, c in zip(splits, cols)))
    for name in report["classes"]:
        lines.append(name.ljust(width) + "".join(str(report["splits"][s][name]).rjust(c) for s, c in zip(splits, cols)))
    totals = [sum(report["splits"][s].values()) for s in splits]
    lines.append("total".ljust(width) + "".join(str(t).rjust(c) for t, c in zip(totals, cols)))
    for reason, count in report["excluded"].items():
        lines.append(f"excluded by the format's rules: {count} ({reason})")
    dup = report["duplicates"]
    if dup["extra_copies"]:
        lines.append(
            f"exact duplicate images: {dup['extra_copies']} extra copies; "
            f"{dup['groups_with_conflicting_labels']} groups disagree on the label, "
            f"{dup['groups_across_splits']} span splits"
        )
    problems = report["problems"]
    lines.append("")
    lines.append(f"problems: {len(problems)}" + (" (items skipped)" if problems else ""))
    lines.extend(f"  {p['source']}: {p['reason']}" for p in problems[:MAX_PROBLEMS_SHOWN])
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more (--json lists them all)")
    return "\n".join(lines)


def duplicate_report(ds: FaceDataset) -> dict[str, int]:
    """Exact duplicate images: how many extra copies, how many disagree on the label, how many cross splits.

    FER2013 holds about a thousand; copies across Training and a test split inflate test accuracy.
    """
    groups: dict[bytes, list[int]] = {}
    for i, image in enumerate(ds.images):
        groups.setdefault(hashlib.blake2b(image.tobytes(), digest_size=16).digest(), []).append(i)
    copies = [g for g in groups.values() if len(g) > 1]
    return {
        "extra_copies": sum(len(g) - 1 for g in copies),
        "groups_with_conflicting_labels": sum(len(set(ds.labels[g].tolist())) > 1 for g in copies),
        "groups_across_splits": sum(len(set(ds.splits[g].tolist())) > 1 for g in copies),
    }

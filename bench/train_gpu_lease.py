"""Teachers and students in one short GPU lease: several 48-wide `fastnet` members trained side by side, then
`default`- and `fast`-style students distilled from them (and any older members named), all within a wall-clock
budget. Every run is a plain `ferkit train` with the recipe of a bench/*_cpu.sh script, so each also runs on a CPU;
only the number of member epochs is chosen here, from a two-epoch probe of the members running side by side.

Run by hand on a GPU machine (not a test):
  python bench/train_gpu_lease.py --data ../shared/datasets/fer2013 --out runs/gpu-lease --budget 540 \
      --old-teachers src/ferkit/weights/best/members/wide48-mix-120,src/ferkit/weights/best/members/wide48-mix
Results recorded in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

MEMBER = [  # bench/train_wide48_mix_cpu.sh's recipe (runs 21, 43); the epochs and seed are set per run
    "--model", "fastnet", "--batch-size", "64", "--lr", "0.05", "-o", "model.crop=40",
    "-o", "model.args={widths: [48, 96, 192, 384]}",
    "-o", "augment.cutmix=1.0", "-o", "augment.mixup=0.2", "-o", "augment.mix_prob=0.5",
]  # fmt: skip
KD = [  # bench/train_kd_fast_cpu.sh / train_kd_wide_cpu.sh: label smoothing 0.1, KD weight 0.7 at temperature 3
    "--batch-size", "64", "--lr", "0.05", "-o", "model.crop=40", "-o", "train.label_smoothing=0.1",
    "-o", "train.kd_weight=0.7", "-o", "train.kd_temperature=3", "-o", "train.teacher_cache_tta=multiscale",
]  # fmt: skip
STUDENTS = {  # name: (epochs, extra arguments)
    "kd-default": (60, ["-o", "model.args={widths: [48, 96, 192, 384]}"]),
    "kd-fast": (65, []),
    **{f"kd-fast-s{seed}": (65, ["-o", f"train.seed={seed}"]) for seed in range(1, 10)},
    "kd-fast-w160": (65, ["-o", "model.args={widths: [32, 64, 160, 320]}"]),
}
STARTUP_S = 25.0  # a run's start (imports, CUDA, data from the cache) and its end (calibration, curves), measured


class Lease:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args, self.t0, self.out = args, time.monotonic(), Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.summary: dict = {"budget_s": args.budget, "events": []}

    def left(self) -> float:
        return self.args.budget - (time.monotonic() - self.t0)

    def note(self, what: str, **data) -> None:
        event = {"t": round(time.monotonic() - self.t0, 1), "what": what, **data}
        self.summary["events"].append(event)
        print(json.dumps(event), flush=True)

    def launch(self, name: str, args: list[str], minutes: float) -> subprocess.Popen:
        """`ferkit train` into OUT/name, stopped by the trainer after the epoch that crosses `minutes`."""
        cmd = [sys.executable, "-m", "ferkit", "train", "--data", self.args.data, "--out", str(self.out / name),
               "--device", self.args.device, "-o", "train.precision=bf16", *args,
               "-o", f"train.time_limit={max(minutes, 0.1):.2f}"]  # fmt: skip
        self.note("launch", run=name, cmd=" ".join(cmd[1:]))
        log = open(self.out / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

    def wait(self, procs: dict[str, subprocess.Popen], deadline_left: float) -> None:
        """Wait for every run; any still going when only `deadline_left` seconds remain is stopped."""
        while any(p.poll() is None for p in procs.values()):
            if self.left() < deadline_left:
                for name, p in procs.items():
                    if p.poll() is None:
                        p.kill()
                        self.note("killed", run=name)
                break
            time.sleep(1)
        for name, p in procs.items():
            self.note("ended", run=name, rc=p.wait(), epochs=len(epoch_rows(self.out / name)),
                      best=best_accuracy(self.out / name))  # fmt: skip


def epoch_rows(run: Path) -> list[dict]:
    path = run / "log.csv"
    return list(csv.DictReader(open(path))) if path.exists() else []


def best_accuracy(run: Path) -> float | None:
    rows = epoch_rows(run)
    return max(float(r["val_acc"]) for r in rows) if rows else None


def member_args(seed: int, epochs: int) -> list[str]:
    return [*MEMBER, "--epochs", str(epochs), "-o", f"train.seed={seed}"]


def probe(lease: Lease, seeds: list[int]) -> float:
    """Seconds per epoch of one member while all of them train side by side (the slowest, epoch 2)."""
    procs = {f"probe-{s}": lease.launch(f"probe-{s}", member_args(s, 2), 5) for s in seeds}
    lease.wait(procs, 60)
    per_epoch = []  # log.csv's seconds are cumulative: epoch 2's own time leaves out the first epoch's warm-up
    for name in procs:
        rows = epoch_rows(lease.out / name)
        if len(rows) >= 2:
            per_epoch.append(float(rows[-1]["seconds"]) - float(rows[-2]["seconds"]))
    return max(per_epoch) if per_epoch else float("inf")


def train_members(lease: Lease, seeds: list[int], epochs: int, seconds: float) -> list[str]:
    procs = {f"member-s{s}": lease.launch(f"member-s{s}", member_args(s, epochs), seconds / 60) for s in seeds}
    lease.wait(procs, lease.args.phase2_s)
    return [str(lease.out / n / "best") for n in procs if (lease.out / n / "best" / "model.json").exists()]


def train_students(lease: Lease, teachers: list[str]) -> None:
    """The first student computes the teachers' soft targets and caches them; the rest start once they exist."""
    names = [n for n in lease.args.students.split(",") if n]
    minutes = (lease.left() - lease.args.pack_s - STARTUP_S) / 60
    teacher = ["--teacher", ",".join(teachers)]
    first = names[0]
    epochs, extra = STUDENTS[first]
    procs = {first: lease.launch(first, [*KD, *teacher, "--epochs", str(epochs), *extra], minutes)}
    while not epoch_rows(lease.out / first) and procs[first].poll() is None and lease.left() > lease.args.pack_s:
        time.sleep(1)  # the cached targets exist once the first epoch is logged
    lease.note("targets ready")
    minutes = (lease.left() - lease.args.pack_s - STARTUP_S) / 60
    for name in names[1:]:
        epochs, extra = STUDENTS[name]
        procs[name] = lease.launch(name, [*KD, *teacher, "--epochs", str(epochs), *extra], minutes)
    lease.wait(procs, lease.args.pack_s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", default="runs/gpu-lease")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--budget", type=float, default=540, help="seconds for everything (default 540)")
    ap.add_argument("--seeds", default="11,12,13,14,15", help="one member per seed (default 11-15)")
    ap.add_argument("--max-epochs", type=int, default=300, help="member epochs at most (default 300)")
    ap.add_argument("--min-epochs", type=int, default=40, help="fewer fit: no members, old teachers only")
    ap.add_argument("--old-teachers", default="", help="checkpoints that also teach the students")
    ap.add_argument("--students", default="kd-fast,kd-default,kd-fast-s1,kd-fast-w160")
    ap.add_argument("--phase2-s", type=float, default=0.0, help="seconds kept for the students (default: 65 epochs)")
    ap.add_argument("--pack-s", type=float, default=20.0, help="seconds kept at the end (default 20)")
    args = ap.parse_args()
    unknown = [n for n in args.students.split(",") if n and n not in STUDENTS]
    if unknown:
        ap.error(f"--students: unknown {', '.join(unknown)}; expected some of {', '.join(STUDENTS)}")
    lease = Lease(args)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    per_epoch = probe(lease, seeds) if seeds else float("inf")
    if not args.phase2_s:  # the students' 65 epochs run side by side about as fast as the members' did
        args.phase2_s = args.pack_s + 3 * STARTUP_S + 66 * min(per_epoch, 60)
    member_s = lease.left() - args.phase2_s - STARTUP_S
    epochs = min(args.max_epochs, int(member_s / per_epoch)) if per_epoch < float("inf") else 0
    lease.note("plan", seconds_per_epoch=per_epoch, member_epochs=epochs, phase2_s=args.phase2_s)
    teachers = [t for t in args.old_teachers.split(",") if t]
    if epochs >= args.min_epochs:
        teachers = train_members(lease, seeds, epochs, member_s) + teachers
    if teachers:
        train_students(lease, teachers)
    lease.note("done", left_s=round(lease.left(), 1))
    (lease.out / "lease.json").write_text(json.dumps(lease.summary, indent=1))


if __name__ == "__main__":
    main()

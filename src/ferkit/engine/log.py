"""The per-epoch log: a CSV row per epoch and a training-curve PNG redrawn after each, both written atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ferkit.fileio import atomic_path, atomic_write_text

COLUMNS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "img_per_s")


class EpochLog:
    def __init__(self, out: Path, history: list[dict] | None = None) -> None:
        self.out, self.history = out, list(history or [])

    def add(self, row: dict) -> None:
        self.history.append(row)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: r.get(k) for k in COLUMNS} for r in self.history)
        atomic_write_text(self.out / "log.csv", buf.getvalue())
        self.plot()

    def plot(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        epochs = [r["epoch"] for r in self.history]
        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
        ax_loss.plot(epochs, [r["train_loss"] for r in self.history], label="train")
        ax_loss.plot(epochs, [r["val_loss"] for r in self.history], label="validation")
        ax_acc.plot(epochs, [r["train_acc"] for r in self.history], label="train")
        ax_acc.plot(epochs, [r["val_acc"] for r in self.history], label="validation")
        for ax, title in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            ax.set_xlabel("epoch")
            ax.set_title(title)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        with atomic_path(self.out / "curves.png") as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)

"""The same `ferkit train`, data-parallel under torchrun: 2 CPU processes (gloo) must end with equal weights."""

import os
import subprocess
import sys

from ferkit.models import load_model


def test_two_process_ddp_run_ends_with_identical_weights(fer_csv, tmp_path):
    env = {**os.environ, "FERKIT_CACHE_DIR": str(tmp_path / "c"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "ferkit", "train", "--data", str(fer_csv), "--out", str(tmp_path / "ddp"),
           "--epochs", "1", "--batch-size", "16", "-o", "model.args={widths: [4, 8, 8, 16]}"]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=280)
    assert result.returncode == 0, result.stderr[-3000:]
    meta = load_model(tmp_path / "ddp/best").meta
    assert meta["ddp"] == {"world_size": 2, "weights_identical": True, "checksum": meta["ddp"]["checksum"]}
    assert meta["training"]["world_size"] == 2

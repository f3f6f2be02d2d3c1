"""Rewrite each member's best checkpoint with float16 weights (ferkit loads them back into float32)."""

import json
import sys
from pathlib import Path

from safetensors.torch import load_file, save_file

for folder in sys.argv[1:]:
    folder = Path(folder)
    state = load_file(str(folder / "model.safetensors"))
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_file(half, str(folder / "model.safetensors"))
    meta = json.loads((folder / "model.json").read_text())
    meta["weights_dtype"] = "float16"
    (folder / "model.json").write_text(json.dumps(meta, indent=2))
    print("float16:", folder)

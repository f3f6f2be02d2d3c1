"""Run every python code block of docs/cnn-from-scratch.md, in order, in one namespace: the tutorial cannot rot."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "cnn-from-scratch.md"


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_tutorial_runs(capsys):
    blocks = code_blocks(DOC.read_text())
    assert len(blocks) >= 12
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name} block {i + 1}", "exec"), namespace)  # noqa: S102 - our own docs

"""The README's library example runs as written (so the front page stays true)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def needs_torch(block: str) -> bool:
    """Blocks that import torch run in tests/oracle/test_readme_torch.py (with torch), not here."""
    return re.search(r"^import torch", block, flags=re.MULTILINE) is not None


def test_the_readme_example_runs_and_reaches_its_figure(capsys):
    blocks = [block for block in python_blocks(README.read_text(encoding="utf-8")) if not needs_torch(block)]
    assert blocks, "README.md has no ```python block"
    namespace = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # its asserts are the test
    assert "['0.weight', '0.bias', '2.weight', '2.bias']" in capsys.readouterr().out


def test_the_quick_start_is_the_two_make_commands():
    text = README.read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick_start and "make test" in quick_start
    # the command lives in .venv: the quick start says how to reach it
    assert "source .venv/bin/activate" in quick_start and ".venv/bin/dltoys" in quick_start


def test_the_licence_the_package_declares_is_in_the_repository():
    root = README.parent
    declared = re.search(r'^license = \{ text = "(\w+)" \}', (root / "pyproject.toml").read_text(encoding="utf-8"),
                         flags=re.MULTILINE).group(1)  # (tomllib is Python 3.11+)
    assert (root / "LICENSE").read_text(encoding="utf-8").startswith(f"{declared} License")

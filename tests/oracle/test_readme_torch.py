"""The README's one-line weight moves between dltoys and PyTorch, run as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(text: str) -> list[str]:  # as tests/test_readme.py reads them
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def needs_torch(block: str) -> bool:
    return re.search(r"^import torch", block, flags=re.MULTILINE) is not None


def test_the_readme_moves_weights_to_pytorch_and_back():
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    torch_blocks = [block for block in blocks if needs_torch(block)]
    assert len(torch_blocks) == 1, "README.md should show the PyTorch round trip in one block"
    namespace = {"__name__": "readme"}
    for block in blocks:  # the example first: it defines `model`
        exec(compile(block, str(README), "exec"), namespace)
    model, torch_model, X = namespace["model"], namespace["torch_model"], namespace["X_te"]
    model.eval()
    with torch.no_grad():
        theirs = torch_model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model(X), theirs, rtol=1e-5, atol=1e-6)  # dltoys -> torch carried every weight

    with torch.no_grad():  # torch -> dltoys: new weights in torch, the README's second line, the same outputs
        for parameter in torch_model.parameters():
            parameter.mul_(-0.5)
        theirs = torch_model(torch.from_numpy(X)).numpy()
    move_back = torch_blocks[0].strip().splitlines()[-1]
    assert move_back.startswith("model.load_state_dict(")
    exec(move_back, namespace)
    np.testing.assert_allclose(model(X), theirs, rtol=1e-5, atol=1e-6)

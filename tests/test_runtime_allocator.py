"""The allocator setting: effective on glibc, idempotent, switchable off, never on import.

Each case runs in a fresh interpreter: mallopt changes the whole process for good.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dltoys import runtime

SRC = str(Path(runtime.__file__).resolve().parents[1])

# Holds forty 512 KB buffers at once, then frees them all: the pattern of a step that
# caches activations for its backward pass. Counts the page faults of ten such steps.
SCRIPT = """
import json, resource, sys
import numpy as np
import dltoys.train
from dltoys import runtime
mode = sys.argv[1]
before_call = runtime._applied
applied = [runtime.tune_allocator(enable=(mode != "disabled")) for _ in range(2)] if mode != "none" else []

def step():
    kept = [np.ones(65536) for _ in range(40)]  # 40 x 512 KB alive together
    return sum(float(a[0]) for a in kept)

for _ in range(3):
    step()
start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start) / 10
print(json.dumps({"before_call": before_call, "applied": applied, "faults": faults}))
"""

glibc_only = pytest.mark.skipif(runtime._glibc() is None, reason="mallopt tuning applies to glibc only")


def run(mode, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "DLTOYS_"))}
    environment.update(PYTHONPATH=SRC, **env)
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], env=environment, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


@glibc_only
def test_tuning_removes_the_page_faults_of_repeated_big_temporaries():
    default = run("none")
    tuned = run("on")
    assert default["before_call"] is None  # importing dltoys.train changes nothing
    assert tuned["applied"] == [True, True]  # idempotent answer
    assert default["faults"] > 1000  # glibc gives the 20 MB back and faults it in again every step
    assert tuned["faults"] < 50


@glibc_only
def test_switched_off_by_argument_or_environment_or_user_settings():
    assert run("disabled")["applied"] == [False, False]
    off = run("on", DLTOYS_TUNE_ALLOCATOR="0")
    assert off["applied"] == [False, False] and off["faults"] > 1000
    assert run("on", MALLOC_TRIM_THRESHOLD_="131072")["applied"] == [False, False]


def test_not_glibc_is_a_no_op(monkeypatch):
    monkeypatch.setattr(runtime, "_applied", None)
    monkeypatch.setattr(runtime, "_glibc", lambda: None)
    monkeypatch.delenv(runtime.ENV_VAR, raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert runtime.tune_allocator() is False

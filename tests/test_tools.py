"""The project's own tools run (their GPU half where a GPU is, their CPU half here)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_check_cuda_runs_and_compares_on_the_cpu(tmp_path):
    # --device cpu runs every comparison against a CPU copy: the script's logic
    # is exercised (and every check must agree exactly, or within amp's tolerance).
    out = tmp_path / "table.md"
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "check_cuda.py"),
            "--device",
            "cpu",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stdout + res.stderr[-2000:]
    rows = [
        line
        for line in out.read_text().splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    assert len(rows) == 15  # the header and 14 checks
    assert all(line.rstrip(" |").endswith("ok") for line in rows[1:])

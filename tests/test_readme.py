"""The README's first snippet runs and prints what the README says it prints."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _snippets():
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.slow
def test_enrolment_snippet_prints_its_stated_output(tmp_path):
    code = _snippets()[0]
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert res.returncode == 0, res.stderr[-2000:]
    printed = res.stdout.strip().splitlines()
    encoder = printed[0].split(":")[0]
    stated = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    if encoder == "ge2e":
        start = next(i for i, line in enumerate(stated) if line.startswith("ge2e:"))
        assert printed == stated[start : start + 3]
    else:
        rates = re.findall(r"\d\.\d\d", " ".join(printed))
        note = next(line for line in stated if line.startswith(f"({encoder}"))
        assert rates == re.findall(r"\d\.\d\d", note)

"""The README's snippets run and print what the README says they print."""

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


@pytest.mark.slow
def test_training_snippet_prints_its_stated_lines(tmp_path):
    # Regression: the snippet stated no output, so an allowed user's low probability
    # on the toy data read as a failure.
    code = _snippets()[1]
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=900
    )
    assert res.returncode == 0, res.stderr[-2000:]
    printed = res.stdout.strip().splitlines()
    stated = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    start = next(i for i, line in enumerate(stated) if line.startswith("best "))
    stated = stated[start : start + 4]
    # The same lines, to the digits where the machine rounds alike; the shape and the
    # point of the snippet (the never-heard voice the most novel) in any case.
    assert [re.sub(r"[\d.]+", "#", line) for line in printed] == [
        re.sub(r"[\d.]+", "#", line) for line in stated
    ]
    novelty = [float(line.rsplit("novelty ", 1)[1]) for line in printed[1:]]
    assert novelty[2] == max(novelty)

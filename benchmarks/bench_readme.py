"""How long the README's "Use" snippets take: run them as a user would.

Usage: python benchmarks/bench_readme.py [--tests]

Extracts every ``python`` block of README.md, runs each in a fresh interpreter
(output discarded), and reports its wall time. With ``--tests``, also times the
README's test command (``make test``: ``python -m pytest -n 2``, the slow tests
left out) once. Writes ``benchmarks/results/readme.md``. Run as the first command
after ``git clone`` and ``make install`` (with the disk cache dropped where the
machine allows it), it gives the times a new user meets:
``readme_fresh_install.md`` is such a run.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

from _common import write_result

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("skvoice/", "README.md", "Makefile", "pyproject.toml", "tests/")

ROOT = Path(__file__).resolve().parents[1]


def main(tests=False):
    text = (ROOT / "README.md").read_text()
    lines = []
    for k, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.S), start=1):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
        seconds = time.perf_counter() - t
        first = code.strip().splitlines()[-1]
        lines.append(f"- README snippet {k} (ends `{first}`): {seconds:.0f} s")
    body = "README 'Use' snippets, each in a fresh interpreter, 2 CPU threads:\n\n"
    body += "\n".join(lines)
    if tests:
        t = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        summary = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else "no output"
        body += (
            f"\n\nThe README's test command (`make test`, after install): "
            f"{time.perf_counter() - t:.0f} s; {summary.strip('= ')}"
        )
    return body


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", action="store_true", help="also time the test suite")
    write_result("readme", main(parser.parse_args().tests))

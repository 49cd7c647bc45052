"""How long the README's "Use" snippets take: run them as a user would.

Usage: python benchmarks/bench_readme.py

Extracts every ``python`` block of README.md, runs each in a fresh interpreter
(output discarded), and reports its wall time. Writes
``benchmarks/results/readme.md``.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

from _common import write_result

ROOT = Path(__file__).resolve().parents[1]


def main():
    text = (ROOT / "README.md").read_text()
    lines = []
    for k, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.S), start=1):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
        seconds = time.perf_counter() - t
        first = code.strip().splitlines()[-1]
        lines.append(f"- README snippet {k} (ends `{first}`): {seconds:.0f} s")
    return "README 'Use' snippets, each in a fresh interpreter, 2 CPU threads:\n\n" + "\n".join(
        lines
    )


if __name__ == "__main__":
    write_result("readme", main())

"""How long the README's "Use" snippet takes: run it as a user would.

Usage: python benchmarks/bench_readme.py

Extracts the first ``python`` block of README.md, runs it in a fresh interpreter
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
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - t
    return f"README 'Use' snippet, fresh interpreter, 2 CPU threads: {seconds:.0f} s"


if __name__ == "__main__":
    write_result("readme", main())

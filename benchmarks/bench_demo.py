"""How long ``skvoice demo`` takes, and how its report looks in a browser.

Usage: python benchmarks/bench_demo.py [--repeat 3] [-- DEMO ARGUMENTS ...]

Runs ``python -m skvoice demo`` in a fresh interpreter (the start of Python and the
imports included, the install not) ``--repeat`` times on 2 CPU threads, and reports
the wall time of each and their median; then opens the last report in headless
Chromium at a laptop's width (1366 px) with ``tools/check_report.py``: every image
loaded, nothing wider than the window, every table cell readable. Writes
``benchmarks/results/demo.md``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write_result

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("skvoice/",)

ROOT = Path(__file__).resolve().parents[1]


def main(repeat, demo_args):
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        env = {**os.environ, "OMP_NUM_THREADS": "2"}
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "skvoice", "demo", "--out", str(out), *demo_args],
                check=True,
                capture_output=True,
                env=env,
            )
            times.append(time.perf_counter() - t)
        summary = (out / "summary.csv").read_text().splitlines()
        check = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "check_report.py"), str(out)],
            capture_output=True,
            text=True,
        )
    runs = ", ".join(f"{t:.0f}" for t in times)
    lines = [
        f"`skvoice demo {' '.join(demo_args)}`".replace(" `", "`"),
        "",
        f"- wall time, fresh interpreter, 2 CPU threads: median {statistics.median(times):.0f} s "
        f"over {repeat} run(s) ({runs} s)",
        f"- claims of the report's text listed in summary.csv: {len(summary) - 1}",
    ]
    if check.returncode == 2:
        lines.append("- browser check: not run (Chromium is not installed)")
    else:
        r = json.loads(check.stdout)
        loaded = sum(img["loaded"] for img in r["images"])
        lines.append(
            f"- browser check (Chromium, {r['width']} px wide): "
            f"{'passed' if r['passed'] else 'FAILED'}; {loaded} of {len(r['images'])} images "
            f"loaded, page {r['page_width']} px wide, {len(r['too_wide'])} element(s) wider "
            f"than the window, {r['cells']} table cells of which {r['small_cells']} under 10 px "
            f"and {r['clipped_cells']} clipped"
        )
        if not r["passed"]:
            raise SystemExit("\n".join(lines))
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("demo_args", nargs="*", help="arguments of skvoice demo (after --)")
    args = parser.parse_args()
    write_result("demo", main(args.repeat, args.demo_args))

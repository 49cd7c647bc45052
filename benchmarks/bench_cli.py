"""How fast the command line answers ``--help``.

Usage: python benchmarks/bench_cli.py [--repeat 5]

Times ``python -m skvoice [COMMAND] --help`` in a fresh interpreter (the start of
Python included), median of ``--repeat`` runs, and ``python -c pass`` beside it
as the floor. The package imports lazily, so help never imports torch. Writes
``benchmarks/results/cli.md``.
"""

import argparse
import statistics
import subprocess
import sys
import time

from _common import markdown_table, write_result

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("skvoice/_cli.py", "skvoice/__init__.py")

COMMANDS = ([], ["demo"], ["eda"], ["train"], ["verify"], ["evaluate"])


def median_run(args, repeat):
    times = []
    for _ in range(repeat + 1):
        t = time.perf_counter()
        subprocess.run([sys.executable, *args], capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])  # the first run warms the file cache


def main(repeat):
    rows = [["python -c pass (floor)", f"{median_run(['-c', 'pass'], repeat):.3f}"]]
    for cmd in COMMANDS:
        line = " ".join(["skvoice", *cmd, "--help"])
        rows.append([line, f"{median_run(['-m', 'skvoice', *cmd, '--help'], repeat):.3f}"])
    return f"Median of {repeat} runs, fresh interpreter each:\n\n" + markdown_table(
        ("command", "seconds"), rows
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    write_result("cli", main(parser.parse_args().repeat))

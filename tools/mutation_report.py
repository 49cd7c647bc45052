"""Summarise a mutmut run: mutants killed, survived, timed out, per module.

A mutant that times out counts as killed (the tests noticed a change: the mutated
code no longer terminates in time); the kill rate is over the mutants checked.

Usage: python tools/mutation_report.py   (after ``mutmut run``; ``make mutation``)
"""

import collections
import subprocess
import sys


def main():
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True,
        text=True,
    ).stdout
    counts = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        module = name.split(".x")[0]
        counts[module][status] += 1
    total = collections.Counter()
    print("| module | killed | survived | timeout | no tests | not checked | kill rate |")
    print("|---|---|---|---|---|---|---|")
    for module in sorted(counts):
        c = counts[module]
        total.update(c)
        tested = c["killed"] + c["survived"] + c["timeout"]
        rate = (c["killed"] + c["timeout"]) / tested if tested else float("nan")
        print(
            f"| {module} | {c['killed']} | {c['survived']} | {c['timeout']} | "
            f"{c['no tests']} | {c['not checked']} | {rate:.1%} |"
        )
    tested = total["killed"] + total["survived"] + total["timeout"]
    rate = (total["killed"] + total["timeout"]) / tested
    print(
        f"| all | {total['killed']} | {total['survived']} | {total['timeout']} | "
        f"{total['no tests']} | {total['not checked']} | {rate:.1%} |"
    )


if __name__ == "__main__":
    main()

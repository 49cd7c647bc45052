"""What the benchmark scripts share: timing, thread limits, result files.

Every script times its candidates the same way (one warm-up call, then the median
of ``repeat`` calls, at a stated number of threads) and writes its table to
``benchmarks/results/NAME.md`` with the command and the machine, so that the docs
include the file and cannot drift from it.
"""

import os
import platform
import statistics
import sys
import time
from pathlib import Path

#: Where result files go: ``benchmarks/results``, or ``$SKVOICE_BENCH_RESULTS``
#: (``make bench-smoke`` writes there, so the real results are never overwritten).
RESULTS = Path(
    os.environ.get("SKVOICE_BENCH_RESULTS") or Path(__file__).resolve().parent / "results"
)
#: ``make bench-smoke``: every script on tiny data, to show that it runs.
SMOKE = os.environ.get("SKVOICE_BENCH_SMOKE") == "1"


def median_time(func, repeat):
    """Median wall time of ``repeat`` calls of ``func`` after one warm-up call."""
    func()  # warm-up: numba compilation, caches, thread pools
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        func()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def threads(n):
    """Limit torch, BLAS and OpenMP pools to ``n`` threads for the block."""
    from skvoice import limit_threads

    return limit_threads(n)


def mean_sd(values, fmt="{:.3f}"):
    """``mean +- sd`` over seeds (sample sd; a single value prints alone)."""
    values = [float(v) for v in values]
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.mean(values))} +- {fmt.format(statistics.stdev(values))}"


def bootstrap_ci(values, n_boot=10_000, seed=0):
    """Mean of ``values`` (one per seed) and its 95 % percentile bootstrap interval."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (n_boot, len(values)))].mean(axis=1)
    return (
        float(values.mean()),
        float(np.percentile(means, 2.5)),
        float(np.percentile(means, 97.5)),
    )


def mean_ci(values, fmt="{:.3f}"):
    """``mean [low, high]``: the mean over seeds with its 95 % bootstrap interval."""
    import numpy as np

    values = [float(v) for v in values]
    if np.isnan(values).any():
        return "n/a"
    if len(values) == 1:
        return fmt.format(values[0])
    mean, low, high = bootstrap_ci(values)
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def paired_difference(a, b, fmt="{:.1f}"):
    """Mean of the per-seed differences ``a - b`` with its 95 % bootstrap interval.

    Says "within noise" when the interval holds 0.
    """
    import numpy as np

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2:
        return fmt.format(d.mean()) + " (one seed)"
    mean, low, high = bootstrap_ci(d)
    verdict = "within noise" if low <= 0 <= high else ("higher" if mean > 0 else "lower")
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]: {verdict}"


#: Groups of code a benchmark names in its ``MEASURES``: ``tools/check_stale.py``
#: reruns a result when a file under them changed since its stamp.
CODE = {
    "features": ("skvoice/preprocessing/", "skvoice/io/", "skvoice/datasets/"),
    "networks": ("skvoice/neural_network/",),
    "decisions": (
        "skvoice/decisions/",
        "skvoice/verification/",
        "skvoice/metrics/",
        "skvoice/model_selection/",
    ),
}


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine():
    import numpy
    import torch

    return (
        f"{platform.machine()}, {os.cpu_count()} logical CPUs, torch threads "
        f"{torch.get_num_threads()}, Python {platform.python_version()}, torch "
        f"{torch.__version__}, numpy {numpy.__version__}"
    )


def revision():
    """The git revision of the checkout, marked ``-dirty`` when the code has changes.

    Changes under ``benchmarks/results/`` do not count: a run that rewrites one
    result file while others wait to be committed measures the committed code.
    """
    import subprocess

    def git(*args):
        root = Path(__file__).resolve().parent.parent
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        rev = git("rev-parse", "--short=12", "HEAD")
        dirty = git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":(exclude)benchmarks/results",
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return rev + ("-dirty" if dirty else "")


def stamp():
    """The command (quoted, to rerun verbatim), and the revision, date and machine."""
    import datetime
    import shlex

    command = shlex.join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return command, f"revision {revision()}, {date}, on {machine()}"


def markdown_to_rst(body):
    """The result text as reStructuredText: pipe tables become list-tables."""
    out, table = [], []

    def flush():
        if not table:
            return
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table]
        rows = [r for r in rows if not all(set(c) <= set("-: ") for c in r)]
        out.extend([".. list-table::", "   :header-rows: 1", ""])
        for row in rows:
            out.append("   * - " + (row[0] or " "))
            out.extend(f"     - {c or ' '}" for c in row[1:])
        out.append("")
        table.clear()

    for line in body.splitlines():
        if line.startswith("|"):
            table.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


def write_result(name, body):
    """Print ``body``; write it to ``results/NAME.md`` and ``NAME.rst`` (for the docs).

    Both files carry the command that made them and the machine it ran on.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    command, where = stamp()
    footer = f"Generated by ``{command}`` at {where}."
    md = f"<!-- generated by `{command}`; do not edit by hand -->\n\n{body}\n\n"
    md += footer.replace("``", "`") + "\n"
    (RESULTS / f"{name}.md").write_text(md)
    rst = f".. generated by {command}; do not edit by hand\n\n{markdown_to_rst(body)}\n\n"
    rst += footer + "\n"
    (RESULTS / f"{name}.rst").write_text(rst)
    print(body)
    print(f"\n[written to {RESULTS / f'{name}.md'} and .rst]")


def rst_from_md(md_path):
    """Rewrite ``NAME.rst`` from an existing ``NAME.md`` (same content, for the docs)."""
    md_path = Path(md_path)
    lines = md_path.read_text().splitlines()
    command = lines[0].removeprefix("<!-- generated by `").split("`;")[0]
    body = "\n".join(lines[2:]).rsplit("\n\nGenerated by ", 1)[0].strip()
    footer = f"Generated by ``{command}``" + lines[-1].split("`", 2)[2]  # " at/on ..."
    rst = f".. generated by {command}; do not edit by hand\n\n{markdown_to_rst(body)}\n\n"
    md_path.with_suffix(".rst").write_text(rst + footer + "\n")


if __name__ == "__main__":
    # python benchmarks/_common.py results/NAME.md ...: the .rst of results written
    # before the .rst output existed.
    for arg in sys.argv[1:]:
        rst_from_md(arg)

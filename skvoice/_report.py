"""The demo's report folder: a table, a figure when matplotlib is there, index.html."""

import csv
import html

import numpy as np


def _figure(path, voices, durations):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = np.unique(voices.speaker)
    fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    pos = np.arange(len(names))
    before = [durations[voices.speaker == n, 0] for n in names]
    after = [durations[voices.speaker == n, 1] for n in names]
    ax.boxplot(
        before,
        positions=pos - 0.18,
        widths=0.3,
        patch_artist=True,
        boxprops={"facecolor": "#cccccc"},
    )
    ax.boxplot(
        after,
        positions=pos + 0.18,
        widths=0.3,
        patch_artist=True,
        boxprops={"facecolor": "#4c72b0"},
    )
    allowed = set(voices.allowed)
    ax.set_xticks(pos, [f"{n}{'*' if n in allowed else ''}" for n in names])
    ax.set_ylabel("duration (s)")
    ax.set_title("Duration per speaker before (grey) and after (blue) trimming; * allowed")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def write_report(out, rows, voices, durations):
    """Write ``summary.csv``, a figure and ``index.html`` into ``out``; return the index."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "summary.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    fig = _figure(out / "durations.png", voices, durations)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    img = f'<img src="{fig}" alt="durations per speaker">' if fig else ""
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>skvoice demo</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "td,th{padding:2px 8px;text-align:right}</style></head><body>"
        "<h1>skvoice demo: synthetic voices</h1>"
        f"<p>{len(voices.data)} recordings of {len(rows)} speakers; allowed: "
        f"{html.escape(', '.join(voices.allowed))}.</p>"
        f"<h2>Per speaker</h2><table><tr>{head}</tr>{body}</table>{img}</body></html>"
    )
    index = out / "index.html"
    index.write_text(page)
    return index.resolve()

"""The demo's report folder: tables, figures and one ``index.html``."""

import csv
import html


def table_html(rows):
    """An HTML table from a list of dicts with the same keys."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def write_csv(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_index(out, title, intro, sections):
    """Write ``out/index.html`` from ``(heading, html)`` sections; return its path."""
    parts = "".join(f"<h2>{html.escape(h)}</h2>{body}" for h, body in sections)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
        "td,th{padding:2px 8px;text-align:right}img{max-width:100%}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{intro}</p>{parts}</body></html>"
    )
    index = out / "index.html"
    index.write_text(page)
    return index.resolve()

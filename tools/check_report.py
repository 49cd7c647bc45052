"""Check a demo report in a real headless browser (Chromium), as a reader would see it.

Usage::

    python tools/check_report.py REPORT_DIR [--width 1366] [--screenshot PNG]

Opens a copy of ``REPORT_DIR/index.html`` (beside its images, so that their
relative paths resolve) at a laptop's width with a small script appended, lets
Chromium lay it out, and reads back what the script measured:

- every image loaded (``complete`` and a natural width);
- nothing is wider than the window (the page's scroll width, and each table and
  image);
- every table cell is readable: a computed font size of at least 10 px, and no
  text clipped inside its cell.

Prints the findings as JSON and exits 1 when any check fails (2 when Chromium is
missing). ``--screenshot`` also saves what the window shows. Chromium comes from
the Debian packages (``apt-get install chromium``).
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Run in the page once it has loaded; writes its findings into <pre id="skvoice-check">.
_SCRIPT = """
<script>
window.addEventListener("load", () => {
  const width = document.documentElement.clientWidth;  // the window less its scrollbar
  const images = [...document.images].map(img => ({
    src: img.getAttribute("src"),
    loaded: img.complete && img.naturalWidth > 0,
    width: img.getBoundingClientRect().width,
  }));
  const wide = [...document.querySelectorAll("table, img")]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .map(el => el.tagName + ":" + (el.getAttribute("src") || el.rows.length + " rows"));
  const cells = [...document.querySelectorAll("td, th")];
  const small = cells.filter(c => parseFloat(getComputedStyle(c).fontSize) < 10).length;
  const clipped = cells.filter(c => c.scrollWidth > c.clientWidth + 1).length;
  const out = document.createElement("pre");
  out.id = "skvoice-check";
  out.style.display = "none";  // read from the DOM, not shown
  out.textContent = JSON.stringify({
    width: width,
    page_width: document.documentElement.scrollWidth,
    images: images,
    too_wide: wide,
    cells: cells.length,
    small_cells: small,
    clipped_cells: clipped,
  });
  document.body.appendChild(out);
});
</script>
"""


def chromium():
    """The Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def check(report_dir, width=1366, screenshot=None):
    """Findings of the browser on ``report_dir/index.html``, and whether all checks pass."""
    exe = chromium()
    if exe is None:
        raise FileNotFoundError("Chromium is not installed (apt-get install chromium).")
    report_dir = Path(report_dir)
    with tempfile.TemporaryDirectory() as profile:
        page = report_dir / "_browser_check.html"
        page.write_text(
            (report_dir / "index.html").read_text().replace("</body>", _SCRIPT + "</body>")
        )
        base = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            f"--window-size={width},900",
            "--virtual-time-budget=10000",
        ]
        try:
            dom = subprocess.run(
                [*base, "--dump-dom", page.resolve().as_uri()],
                capture_output=True,
                text=True,
                timeout=120,
            ).stdout
            if screenshot is not None:
                subprocess.run(
                    [*base, f"--screenshot={Path(screenshot).resolve()}", page.resolve().as_uri()],
                    capture_output=True,
                    timeout=120,
                )
        finally:
            page.unlink()
    found = re.search(r'<pre id="skvoice-check"[^>]*>(.*?)</pre>', dom, re.S)
    if found is None:
        raise RuntimeError("The page's check did not run in Chromium.")
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    result["passed"] = (
        all(img["loaded"] for img in result["images"])
        and result["page_width"] <= result["width"]
        and not result["too_wide"]
        and result["small_cells"] == 0
        and result["clipped_cells"] == 0
    )
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir")
    parser.add_argument("--width", type=int, default=1366)
    parser.add_argument("--screenshot", default=None)
    args = parser.parse_args(argv)
    try:
        result = check(args.report_dir, args.width, args.screenshot)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

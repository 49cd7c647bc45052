"""Every quoted measurement traced to the stamped result file it comes from.

The documents checked are README.md, CHANGELOG.md, docs/ (reStructuredText) and
the command line's printed guidance (the string literals of the modules in
``CODE``). They are cut into paragraphs (code blocks skipped) within sections
(headings).

A paragraph *cites* the result files it names (``benchmarks/results/NAME.md`` or
``.rst``), those its section includes (``.. include:: .../results/NAME.rst``), and
those of an explicit marker on the line before it (``.. claims: NAME.md`` in
reStructuredText, ``<!-- claims: NAME.md -->`` in Markdown). A Python module cites
the result files its text names.

Measurements are percentages, intervals ``[a, b]``, ``a +- b``, durations (s, ms,
minutes) and ratios (``2.4x``, ``4-fold``). A paragraph also cites what its section
cited before it, so a list under "From ``results/x.md``:" cites ``x.md``.
Parameters are not measurements and are left out: a number followed by what it
parametrises (``5 % FAR target``, ``95 % interval``, ``at 5 % FRR``) and anything
inside inline code.

The rules, as the demo's ``summary.csv`` does it for the report's prose:

1. in a paragraph that cites result files, every measurement is a number of one of
   those files (the same value to the quoted precision, or as a fraction for a
   percentage: ``2.1 %`` matches ``2.1`` and ``0.021``);
2. a paragraph that cites nothing may hold no decimal percentage, interval,
   ``+-`` or ratio: those are measurements and must cite (integer percentages and
   durations there are read as settings: "a 5 % target", "crops of 2 s").

Exit status 1 lists every number that is not traced, with its file and line.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ("README.md", "CHANGELOG.md", "docs")
#: Modules whose string literals the command line prints as guidance.
CODE = ("skvoice/_cli.py", "skvoice/_measured.py")

NUM = r"\d+(?:\.\d+)?"
_CITE = re.compile(r"results/([a-z0-9_.-]+?)\.(?:md|rst)\b")
_MARKER = re.compile(r"(?:\.\.|<!--)\s*claims:\s*([\w.\s,-]+?)\s*(?:-->)?\s*$")
_TOKENS = {
    "interval": re.compile(rf"\[\s*-?({NUM})\s*(?:,|to)\s*-?({NUM})\s*\]"),
    "plusminus": re.compile(rf"({NUM})\s?(?:\+-|±)\s?({NUM})"),
    "ratio": re.compile(rf"(?<![\w.])({NUM})(?:x|-fold)(?!\w)"),
    "percent": re.compile(rf"(?<![\w.])({NUM})\s?%"),
    "duration": re.compile(rf"(?<![\w.])({NUM})\s?(ms|s|minutes?|min)(?!\w)"),
}
# What a number parametrises, written right after it (or before it): not a measurement.
_PARAMETER = re.compile(
    rf"(?<![\w.]){NUM}\s?%\s+(?:FAR|FRR|false[- ]acceptance|false[- ]rejection|target|"
    rf"bootstrap|percentile|interval|CI|confidence|level|most|of (?:the|their|its|them|it))"
    rf"|(?:at|target|level|top|first)\s+(?:of\s+)?{NUM}\s?%"
    rf"|\[\s*95\s?%\s+(?:CI|interval)"
)
_INLINE_CODE = re.compile(r"``[^`]*``|`[^`]*`")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_HEADING_RST = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")


def _numbers(text):
    return [float(m) for m in re.findall(rf"(?<![\w.]){NUM}", text)]


_FILE_NUMBERS = {}


def file_numbers(name):
    """Every number written in a result file (``NAME.md``), cached."""
    if name not in _FILE_NUMBERS:
        path = RESULTS / name
        _FILE_NUMBERS[name] = set(_numbers(path.read_text())) if path.exists() else None
    return _FILE_NUMBERS[name]


def _matches(value_text, numbers, percent):
    decimals = len(value_text.split(".")[1]) if "." in value_text else 0
    value = float(value_text)
    for n in numbers:
        if round(n, decimals) == value or (percent and round(100 * n, decimals) == value):
            return True
    return False


def tokens(text):
    """The measurements of a paragraph: (kind, number texts, strong, span start)."""
    text = _PLACEHOLDER.sub(" ", _INLINE_CODE.sub(" ", text))
    text = _PARAMETER.sub(lambda m: " " * len(m.group()), text)
    taken = []
    found = []
    for kind, pattern in _TOKENS.items():
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            values = [g for g in m.groups() if g and re.fullmatch(NUM, g)]
            decimal = any("." in v for v in values)
            strong = kind in ("interval", "plusminus", "ratio") or (kind == "percent" and decimal)
            found.append((kind, values, strong, m.start(), m.group()))
    return found


def _paragraphs_text(lines):
    """(first line number, text, marker citations) of each prose paragraph."""
    out, block, start, marker, in_code, code_indent = [], [], 0, [], False, None
    pending = []

    def flush():
        nonlocal block, marker
        if block:
            out.append((start, " ".join(block), marker))
        block, marker = [], []

    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            in_code = not in_code
            continue
        if in_code:
            continue
        if code_indent is not None:
            indent = len(line) - len(line.lstrip())
            if stripped and indent <= code_indent:
                code_indent = None
            else:
                continue
        m = _MARKER.search(stripped)
        if m:
            flush()
            pending = [w.strip() for w in re.split(r"[,\s]+", m.group(1)) if w.strip()]
            continue
        if not stripped:
            flush()
            continue
        if stripped.startswith(".. ") and (
            "code-block" in stripped or "literalinclude" in stripped
        ):
            flush()
            code_indent = len(line) - len(line.lstrip())
            continue
        if stripped.startswith(".. ") and "include::" not in stripped:
            continue  # comments and directives other than includes
        if not block:
            start, marker, pending = i, pending, []
        block.append(stripped)
        if stripped.endswith("::") and not stripped.startswith(".."):
            flush()
            code_indent = len(line) - len(line.lstrip())
    flush()
    return out


def _sections(lines, markdown):
    """Split lines into sections at headings: lists of (offset, lines)."""
    cuts = [0]
    for i, line in enumerate(lines):
        if markdown and line.startswith("#"):
            cuts.append(i)
        elif not markdown and i > 0 and _HEADING_RST.match(line) and lines[i - 1].strip():
            cuts.append(i - 1)
    cuts.append(len(lines))
    return [(a, lines[a:b]) for a, b in zip(cuts, cuts[1:]) if b > a]


_BARE = re.compile(r"(?<![\w/.-])([a-z0-9_]+)\.(?:md|rst)\b")


def _cited(text):
    """Result files a text names: ``results/NAME.md`` or a bare existing ``NAME.md``."""
    names = {f"{m}.md" for m in _CITE.findall(text)}
    names |= {f"{m}.md" for m in _BARE.findall(text) if (RESULTS / f"{m}.md").exists()}
    return names


def check_document(path):
    """Problems of one Markdown or reStructuredText file: (path, line, message)."""
    lines = Path(path).read_text().splitlines()
    problems = []
    for offset, section in _sections(lines, str(path).endswith(".md")):
        section_cites = {
            f"{m}.md" for line in section if "include::" in line for m in _CITE.findall(line)
        }
        # A paragraph cites what it names, and what its section named before it or
        # includes (a list under "From results/x.md:" cites x.md).
        earlier = set()
        for start, text, marker in _paragraphs_text(section):
            own = _cited(text) | {m if m.endswith(".md") else f"{m}.md" for m in marker}
            earlier |= own
            cites = earlier | section_cites
            problems += _check_paragraph(path, offset + start, text, cites)
    return problems


def _check_paragraph(path, line, text, cites):
    problems = []
    missing = [c for c in sorted(cites) if file_numbers(c) is None]
    for c in missing:
        problems.append((path, line, f"cites {c}, which does not exist"))
    numbers = set().union(*(file_numbers(c) for c in cites if c not in missing))
    for kind, values, strong, _, shown in tokens(text):
        if not cites:
            if strong:
                problems.append(
                    (path, line, f"{shown!r}: a measurement that cites no result file")
                )
            continue
        for v in values:
            if not _matches(v, numbers, kind in ("percent", "interval", "plusminus")):
                problems.append(
                    (path, line, f"{shown!r}: {v} is in none of {', '.join(sorted(cites))}")
                )
    return problems


def check_code(path):
    """Problems of a module's printed guidance (its string literals)."""
    source = Path(path).read_text()
    cites = _cited(source)
    problems = []
    tree = ast.parse(source)
    # The constant parts of an f-string are read with it, not once more alone.
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if id(node) in parts:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        problems += _check_paragraph(path, node.lineno, text, cites)
    return problems


def documents():
    for name in DOCS:
        p = ROOT / name
        if p.is_file():
            yield p
        else:
            for f in sorted(p.rglob("*.rst")):
                if not {"_build", "auto_examples", "generated"} & set(f.parts):
                    yield f


def quoted_results():
    """Names (``NAME.md``) of the result files that README, docs or the CLI cite."""
    names = set()
    for path in [*documents(), *(ROOT / c for c in CODE)]:
        if path.exists():
            text = path.read_text()
            names |= _cited(text)
            for m in _MARKER.finditer(text):
                names |= {w if w.endswith(".md") else f"{w}.md" for w in m.group(1).split()}
    return {n for n in names if (RESULTS / n).exists()}


def main(argv=None):
    problems = []
    for path in documents():
        problems += check_document(path)
    for name in CODE:
        if (ROOT / name).exists():
            problems += check_code(ROOT / name)
    for path, line, message in problems:
        print(f"{Path(path).relative_to(ROOT)}:{line}: {message}")
    quoted = quoted_results()
    print(f"{len(problems)} untraced numbers; {len(quoted)} result files quoted")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

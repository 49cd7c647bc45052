"""The package graph: layers depend only downwards, and no import hides in a function."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "skvoice"
#: Each package and the layer it sits in (lower imports nothing higher).
LAYERS = {
    "io": 0,
    "datasets": 1,
    "preprocessing": 2,
    "metrics": 3,
    "model_selection": 3,
    "decisions": 4,
    # Degradations build on io and preprocessing; stress_test reads metrics.
    "augment": 4,
    "neural_network": 5,
    "uncertainty": 6,
    "inspection": 6,
    "verification": 7,
    "eda": 7,
}


def _imports(path):
    """(package imported, at module level?) for every relative import of a module."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(ROOT).parts[0] if path.parent != ROOT else None
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            if package is None:  # skvoice/_x.py: "from .pkg import" names pkg
                target = (node.module or "").split(".")[0]
            elif node.level == 1:
                target = package
            else:
                target = (node.module or "").split(".")[0]
            out.append((target, id(node) in top, node.lineno))
    return package, out


def _modules():
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_packages_import_only_lower_layers():
    wrong = []
    for path in _modules():
        package, imports = _imports(path)
        if package not in LAYERS:
            continue
        for target, _, line in imports:
            if target in LAYERS and target != package and LAYERS[target] >= LAYERS[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, wrong


def test_decisions_import_no_estimator_package():
    for path in (ROOT / "decisions").glob("*.py"):
        _, imports = _imports(path)
        assert not {t for t, _, _ in imports} & {
            "neural_network",
            "uncertainty",
            "inspection",
            "verification",
        }, path


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_no_cross_package_import_inside_a_function(package):
    hidden = []
    for path in (ROOT / package).rglob("*.py"):
        _, imports = _imports(path)
        hidden += [
            f"{path.relative_to(ROOT)}:{line}"
            for target, top, line in imports
            if not top and target != package
        ]
    assert not hidden, hidden

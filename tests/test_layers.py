"""Imports point one way: every module imports only its own package and the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

from settings import PROJECT_DIR

# Lowest first. A layer may import the layers listed before it, never one after it nor a sibling
# on its own line: db/ and pipeline/ share only core/, api/ and ui/ only what is below them.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("settings", "server_tuning"),
    ("db", "pipeline"),
    ("worker",),
    ("api", "ui"),
    ("pages",),
    ("app", "cli"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
# Above every layer, and never imported by it: harness/ (the fakes, the served app) is what
# tests/ and bench/ share, so bench/ never imports tests/.
HARNESS = ("harness", "bench", "tests")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level name) of every absolute import in the file, those inside functions too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def upward_imports(root: Path) -> list[str]:
    """Every import under `root` that runs against LAYERS, as `path:line imports name`."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        layer = parts[0].removesuffix(".py")
        if layer not in RANK and layer not in HARNESS[:2]:
            continue
        for line, name in _imports(path):
            if layer in HARNESS:
                upward = name in HARNESS[HARNESS.index(layer) + 1 :]
            else:
                upward = name in HARNESS or (name in RANK and name != layer and RANK[name] >= RANK[layer])
            if upward:
                wrong.append(f"{path.relative_to(root)}:{line} imports {name}")
    return wrong


def test_every_top_level_module_has_a_layer():
    ours = {path.name.removesuffix(".py") for path in PROJECT_DIR.iterdir() if path.suffix == ".py"}
    ours |= {path.name for path in PROJECT_DIR.iterdir() if (path / "__init__.py").exists()}
    assert ours - set(RANK) - set(HARNESS) == set()


def test_no_import_runs_upward():
    assert upward_imports(PROJECT_DIR) == []


def test_the_checker_finds_an_upward_import_a_sibling_import_and_bench_importing_tests(tmp_path):
    for name, text in {
        "db/jobs.py": "from worker.runner import Runner\nfrom core.status import JobStatus\n",
        "pipeline/scrape.py": "def later():\n    import db.engine\n",
        "bench/load.py": "from harness.fakes.site import FakeSite\nfrom tests.helpers import open_page\n",
    }.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert upward_imports(tmp_path) == [
        "bench/load.py:2 imports tests",
        "db/jobs.py:1 imports worker",
        "pipeline/scrape.py:2 imports db",
    ]

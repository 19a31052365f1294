"""The boundaries the design sets: the core never imports textual, and of the screens package
only the workers' module (`screens/jobs.py`) may reach the cluster or the file system's
snapshot functions. Checked on the source, so a violation fails before it is ever run."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What talks to a cluster or reads and writes snapshot files: only the workers may use it.
IO_NAMES = {
    ("k8saudit.scan", "scan_cluster"),
    ("k8saudit.connection", "connect"),
    ("k8saudit.connection", "list_contexts"),
    ("k8saudit.collector", "Collector"),
    ("k8saudit.snapshot", "load"),
    ("k8saudit.snapshot", "save"),
    ("k8saudit.snapshot", "write_atomically"),
}


def imports(path: Path) -> set[tuple[str, str]]:
    """(module, name) for every import in `path`; name is "" for `import module`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update((alias.name, "") for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update((node.module, alias.name) for alias in node.names)
    return found


def test_core_and_checks_never_import_textual() -> None:
    for package in ("k8saudit", "checks"):
        for path in (ROOT / package).rglob("*.py"):
            modules = {module for module, _ in imports(path)}
            assert not any(m == "textual" or m.startswith("textual.") for m in modules), path


def test_only_the_workers_module_does_io() -> None:
    for path in (ROOT / "screens").glob("*.py"):
        if path.name == "jobs.py":
            continue
        found = imports(path)
        modules = {module for module, _ in found}
        assert not modules & {"httpx", "kubernetes", "k8saudit.scan"}, path
        assert not found & IO_NAMES, f"{path.name} imports {sorted(found & IO_NAMES)}"


def test_every_text_field_of_the_screens_is_a_text_field() -> None:
    """`screens.fields.TextField`, never a bare Input: an Input selects the text the app fills in
    (the first key typed replaces it) and runs ctrl+u after the keys typed after it."""
    for path in (ROOT / "screens").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "Input", f"{path.name}:{node.lineno} builds an Input"

"""The check catalog in text, Markdown (the README's table) and JSON."""

from __future__ import annotations

import orjson

from k8saudit.registry import load_checks


def catalog_text() -> str:
    checks = load_checks()
    lines = [f"{m.id:<9} {m.area:<11} {m.severity.value:<9} {m.title}" for m in checks.values()]
    return "\n".join(lines) + f"\n{len(checks)} checks\n"


def catalog_markdown() -> str:
    lines = ["| ID | Area | Severity | Check |", "|---|---|---|---|"]
    for m in load_checks().values():
        title = m.title.replace("|", r"\|")
        lines.append(f"| {m.id} | {m.area} | {m.severity.value} | {title} |")
    return "\n".join(lines) + "\n"


def catalog_json() -> str:
    data = [m.to_dict() for m in load_checks().values()]
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"

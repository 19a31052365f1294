"""Cluster data turned into safe, displayable text.

Everything returned here is either a `rich.text.Text` built from plain strings or a
`rich.syntax.Syntax` over already-escaped text: markup in the data is never parsed, and control,
escape and bidi characters are shown as visible `\\x..`/`\\u....` escapes (`safe_text`).
"""

from __future__ import annotations

from typing import Any

import yaml
from rich.syntax import Syntax
from rich.text import Text

from k8saudit.textsafe import safe_text

MAX_LINE = 4000  # one YAML line longer than this is clipped (a 1 MB annotation stays readable)


class _Dumper(yaml.SafeDumper):
    """Block style, keys in collection order, no line folding."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # evidence that names one list twice reads as two lists, not `&id001`/`*id001`


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and all(c.isprintable() or c == "\n" for c in value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def to_yaml(data: Any, width: int = 10**9) -> str:
    """`data` as YAML, every line made safe to print. A `width` folds long plain scalars the
    YAML way (continuation lines indented under their key) instead of letting the terminal wrap
    them to column 0; the default never folds, like `kubectl get -o yaml`."""
    raw = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=width
    )
    return "\n".join(safe_text(line, MAX_LINE) for line in raw.rstrip("\n").split("\n"))


def yaml_view(data: Any) -> Syntax:
    """Highlighted YAML of `data` (the text is escaped first; highlighting never interprets it)."""
    return Syntax(to_yaml(data), "yaml", theme="ansi_dark", background_color="default", word_wrap=False)


def plain(value: object, limit: int | None = 2000) -> Text:
    """One line of cluster text as a Text that is shown exactly as written."""
    return Text(safe_text(value, limit))


def reflow(paragraph: str) -> str:
    """Triple-quoted metadata text as one paragraph (the source line breaks are not meaningful)."""
    return " ".join(paragraph.split())

"""Cluster data turned into safe, displayable text.

Everything returned here is either a `rich.text.Text` built from plain strings or a
`rich.syntax.Syntax` over already-escaped text: markup in the data is never parsed, and control,
escape and bidi characters are shown as visible `\\x..`/`\\u....` escapes (`safe_text`).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from rich.cells import cell_len, chop_cells
from rich.syntax import Syntax
from rich.text import Text
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from k8saudit.textsafe import safe_text

MAX_LINE = 4000  # a YAML line longer than this is clipped (a 1 MB annotation stays readable)
MAX_STRING = 2000  # so is a string, before the YAML is written: it then fits one line


class _Dumper(yaml.SafeDumper):
    """Block style, keys in collection order, no line folding."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # evidence that names one list twice reads as two lists, not `&id001`/`*id001`


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and all(c.isprintable() or c == "\n" for c in value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _clipped(data: Any) -> Any:
    """`data` with every string longer than MAX_LINE cut there (saying how much more there was):
    a megabyte annotation or condition message folded to the pane would otherwise be thousands
    of lines."""
    if isinstance(data, str):
        return (
            f"{data[:MAX_LINE]}… ({len(data) - MAX_LINE} more characters)" if len(data) > MAX_LINE else data
        )
    if isinstance(data, dict):
        return {_clipped(k): _clipped(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_clipped(v) for v in data]
    return data


def to_yaml(data: Any) -> str:
    """`data` as YAML, every line made safe to print and every string clipped to MAX_STRING.
    Never folded, like `kubectl get -o yaml`: `FoldedLines` folds it to the width it is shown at."""
    raw = yaml.dump(
        _clipped(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10**9,
    )
    return "\n".join(safe_text(line, MAX_LINE) for line in raw.rstrip("\n").split("\n"))


def yaml_view(data: Any) -> Syntax:
    """Highlighted YAML of `data` (the text is escaped first; highlighting never interprets it)."""
    return Syntax(to_yaml(data), "yaml", theme="ansi_dark", background_color="default", word_wrap=False)


def plain(value: object, limit: int | None = 2000) -> Text:
    """One line of cluster text as a Text that is shown exactly as written."""
    return Text(safe_text(value, limit))


def title(value: object, limit: int = 150) -> Text:
    """Cluster text for a border title. Textual parses a `str` title as markup (a resource named
    `[link=…]` would be a link, an unbalanced `[` a crash); a Text is taken as it is."""
    return Text(safe_text(value, limit))


def reflow(paragraph: str) -> str:
    """Triple-quoted metadata text as one paragraph (the source line breaks are not meaningful)."""
    return " ".join(paragraph.split())


# -- YAML folded to the width it is drawn at ----------------------------------------------------

_WORDS = re.compile(r"\S+\s*")
_LIST_ITEMS = re.compile(r"(?:- )*")  # "- - key: value": the key starts after them


def fold_line(line: str, width: int) -> list[str]:
    """`line` of YAML in lines of at most `width` cells: broken at spaces (a word wider than the
    room is cut), continuation lines two cells deeper than the line's key, as YAML folds a
    scalar, so the structure still reads at a glance."""
    if width < 1 or cell_len(line) <= width:
        return [line]
    indent = len(line) - len(line.lstrip(" "))
    lead = indent + len(_LIST_ITEMS.match(line, indent).group())  # type: ignore[union-attr]
    hang = " " * min(lead + 2, width // 2)  # a deep key in a narrow pane keeps room for its value
    folded: list[str] = []
    current = line[:lead]
    for word in _WORDS.findall(line, lead):
        too_long = cell_len(current + word.rstrip()) > width
        if too_long and current.strip() and cell_len(hang + word.rstrip()) <= width:
            folded.append(current.rstrip())
            current = hang
        current += word
        while cell_len(current.rstrip()) > width:  # a word wider than the room: cut
            head = chop_cells(current, width)[0]
            folded.append(head)
            current = hang + current[len(head) :]
    folded.append(current.rstrip())
    return folded


class FoldedLines(Visual):
    """Text (YAML) drawn with each line folded to the width it is drawn at (`fold_line`), and
    only by this: the widget never wraps it again, at any width, after any resize. The text is
    shown as it is (no markup: escape it first, as `to_yaml` does). Printed by Rich (a test, a
    log) it is the text unfolded."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded: tuple[int, Content] | None = None

    def __rich__(self) -> Text:
        return Text(self.text)

    def fold(self, width: int) -> list[str]:
        return [piece for line in self.text.split("\n") for piece in fold_line(line, width)]

    def folded(self, width: int) -> Content:
        if self._folded is None or self._folded[0] != width:
            self._folded = (width, Content("\n".join(self.fold(width))))
        return self._folded[1]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return max(cell_len(line) for line in self.text.split("\n"))

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.folded(width).plain.split("\n"))

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return self.folded(width).render_strips(width, height, style, options)


PHRASE_GAP = " · "


def wrap_phrases(phrases: list[str], width: int) -> list[str]:
    """`phrases` joined by " · " in lines of at most `width` cells, broken only between two
    phrases (a line that goes on ends in "·"), never inside one ("click / a header"); a phrase
    wider than the whole line is broken at its spaces."""
    lines: list[str] = []
    current = ""
    for phrase in phrases:
        joined = f"{current}{PHRASE_GAP}{phrase}" if current else phrase
        if current and cell_len(joined) > width:
            lines.append(current + PHRASE_GAP.rstrip())
            joined = phrase
        current = joined
    lines.append(current)
    return [piece for line in lines for piece in fold_line(line, width)]


class PhraseLines(FoldedLines):
    """Phrases drawn one after the other, " · " apart, each line broken between two phrases
    only, at the width it is drawn at (`wrap_phrases`). Plain text, never markup."""

    def __init__(self, phrases: list[str]) -> None:
        super().__init__(PHRASE_GAP.join(phrases))
        self.phrases = phrases

    def fold(self, width: int) -> list[str]:
        return wrap_phrases(self.phrases, width)


class FirstThatFits(Visual):
    """One line: the first of `lines` (saying the most first) that fits the width it is drawn
    at, chosen again after a resize; the last one, cut with "…", when none does. Plain text,
    never markup. Printed by Rich it is the first line."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines

    def __rich__(self) -> Text:
        return Text(self.lines[0])

    def line(self, width: int) -> str:
        return next((line for line in self.lines if cell_len(line) <= width), self.lines[-1])

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return cell_len(self.lines[0])

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        line = Content(self.line(width)).truncate(width, ellipsis=True)
        return line.render_strips(width, 1, style, options)

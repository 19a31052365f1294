"""Fleet view: one row per snapshot of a directory (`k8saudit open DIR`), worst first.

Each row is a `k8saudit.fleet.FleetEntry` (what `k8saudit report DIR` prints): grade, overall and
per-area scores, failing findings by severity, waived, coverage gaps, and why a cluster has no
usable report (a snapshot that cannot be read, a cluster that could not be scanned). Sort by any
column (keys or a click on its header); `enter` opens that cluster's report in the usual
screens, and `esc` from its overview comes back here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from k8saudit.fleet import AREA_LABELS, FleetEntry
from k8saudit.model import Severity
from k8saudit.registry import AREAS
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import AuditScreen
from screens.overview import ago
from screens.table import Column, Row, RowTable
from screens.text import PhraseLines

SEVERITY_COLUMNS = (("critical", "Crit"), ("high", "High"), ("medium", "Med"), ("low", "Low"))
# Never left out: the same cluster scanned again minutes later is another row, which would read
# the same as the first (the selected row's detail has the second and the file). To the minute,
# unless two snapshots of one cluster fall in the same minute: then to the second, for every row.
COLLECTED_FORMAT = "%Y-%m-%d %H:%M"
COLLECTED_SECONDS_FORMAT = "%Y-%m-%d %H:%M:%S"
COLUMNS = (
    Column("cluster", "Cluster", ratio=1, min_width=14),
    Column("grade", "Grade", width=5),
    Column("overall", "Score", width=7, align="right"),
    *(Column(area, AREA_LABELS[area], width=6, align="right", drop_rank=3) for area in AREAS),
    # In 80 columns the low findings give way to the collection time (the detail counts them).
    *(
        Column(severity, label, width=4, align="right", drop_rank=1 if severity == "low" else 0)
        for severity, label in SEVERITY_COLUMNS
    ),
    Column("waived", "Waived", width=6, align="right", drop_rank=2),
    Column("gaps", "Gaps", width=4, align="right", drop_rank=2),  # the status says "N kinds not read"
    Column("collected", "Collected UTC", width=16),
    Column("status", "Status", ratio=2, min_width=12),
)
# How each column's order reads: (what is sorted, its first order, the order turned around).
SORT_WORDS = {
    "cluster": ("cluster name", "A to Z", "Z to A"),
    "overall": ("score", "worst first", "best first"),
    "grade": ("score", "worst first", "best first"),
    "problems": ("failing findings", "most critical first", "least critical first"),
    "collected": ("collection time", "oldest first", "newest first"),
}


SORT_KEYS_HINT = ("C name", "S score", "P findings", "D time", "click a header for any column")

# Orders with no column of their own, and the column whose header shows them: by failing findings,
# critical first, is the Crit column's order (ties broken by high, medium, low either way).
SORT_HEADER = {"problems": "critical"}

# Columns whose first order goes from the most to the least (the header's ▼): counts, most first.
MOST_FIRST = frozenset({"problems", *(severity for severity, _ in SEVERITY_COLUMNS), "waived", "gaps"})


def collected_format(entries: list[FleetEntry]) -> str:
    """To the second when two snapshots of one cluster were collected in the same minute (their
    rows would read the same), else to the minute (the status column keeps the room)."""
    minutes = [(e.context, f"{e.collected_at:{COLLECTED_FORMAT}}") for e in entries if e.collected_at]
    return COLLECTED_SECONDS_FORMAT if len(set(minutes)) < len(minutes) else COLLECTED_FORMAT


def columns_for(time_format: str) -> tuple[Column, ...]:
    """The table's columns, the collection time as wide as `time_format` writes it."""
    width = len(f"{datetime(2000, 1, 1):{time_format}}")
    return tuple(replace(c, width=width) if c.key == "collected" else c for c in COLUMNS)


def can_open(entry: FleetEntry) -> bool:
    """A report exists for it: the snapshot was read (even if nothing in it could be listed)."""
    return entry.snapshot is not None and entry.collected_at is not None


def short_error(entry: FleetEntry) -> str | None:
    """The error as a table cell: "prod.json is truncated: …" rather than the file's whole path
    first (the detail panel below the table has the full text)."""
    error = entry.error
    if error and entry.snapshot is not None and error.startswith(str(entry.snapshot)):
        return entry.snapshot.name + error[len(str(entry.snapshot)) :]
    return error


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _problems_key(entry: FleetEntry) -> tuple[Any, ...]:
    return (entry.ok, *(-entry.problems.get(s.value, 0) for s in Severity))


def sort_key(column: str) -> Callable[[FleetEntry], Any]:
    """Ascending order for `column`: the worst cluster first where "worst" means something."""
    if column == "cluster":
        return lambda e: e.context.lower()
    if column in ("overall", "grade"):
        return lambda e: (e.overall is not None, e.overall or 0.0)
    if column in AREAS:
        return lambda e: (e.areas.get(column) is not None, e.areas.get(column) or 0.0)
    if column in ("problems", *(s for s, _ in SEVERITY_COLUMNS)):
        if column == "problems":
            return _problems_key
        return lambda e: (e.ok, -e.problems.get(column, 0), _problems_key(e))
    if column == "waived":
        return lambda e: -e.waived
    if column == "gaps":
        return lambda e: -len(e.unreadable)
    if column == "collected":
        return lambda e: (e.collected_at is not None, e.collected_at.timestamp() if e.collected_at else 0.0)
    if column == "status":
        return lambda e: (e.ok, e.error or "")
    raise ValueError(f"unknown fleet column {column!r}")


class FleetRows:
    def __init__(self, entries: list[FleetEntry], time_format: str = COLLECTED_FORMAT) -> None:
        self.entries = entries
        self.time_format = time_format

    def __len__(self) -> int:
        return len(self.entries)

    def row(self, position: int) -> Row:
        e = self.entries[position]
        readable = e.collected_at is not None
        counts = [str(e.problems.get(s, 0)) if readable else "-" for s, _ in SEVERITY_COLUMNS]
        gaps = len(e.unreadable)
        status = short_error(e) or (f"{gaps} kind{'s' if gaps != 1 else ''} not read" if gaps else "ok")
        grade = e.grade if readable else "-"
        return Row(
            (
                e.context or (e.snapshot.name if e.snapshot else "?"),
                grade,
                _score(e.overall),
                *(_score(e.areas.get(area)) for area in AREAS),
                *counts,
                str(e.waived) if readable else "-",
                str(len(e.unreadable)) if readable else "-",
                f"{e.collected_at:{self.time_format}}" if e.collected_at else "-",
                status,
            ),
            (
                None,
                f"grade-{grade.lower()}" if grade != "-" else None,
                None,
                *([None] * len(AREAS)),
                *(s if e.problems.get(s) else None for s, _ in SEVERITY_COLUMNS),
                None,
                "forbidden" if e.unreadable else None,
                None,
                "error" if e.error else ("warn" if e.unreadable else "ok"),
            ),
        )


class FleetScreen(AuditScreen):
    SCOPE = "fleet"
    BINDINGS = bindings_for("fleet")

    def __init__(self, directory: Path, entries: list[FleetEntry]) -> None:
        super().__init__()
        self.directory = directory
        self.entries = list(entries)
        self.sort_column = "overall"
        self.reverse = False  # the column's order turned around (its key pressed again)
        self.loading = False
        self.time_format = collected_format(self.entries)
        self._order()

    def _rows(self) -> FleetRows:
        return FleetRows(self.entries, self.time_format)

    def _order(self) -> None:
        self.entries.sort(key=sort_key(self.sort_column), reverse=self.reverse)

    def crumbs(self) -> list[str]:
        return ["Fleet"]

    def origin(self) -> str | None:
        return f"fleet · {self.directory}"

    def compose_body(self) -> ComposeResult:
        table = RowTable(columns_for(self.time_format), self._rows(), empty_text="No snapshot.", id="fleet")
        table.border_title = self._title()
        yield table
        with Vertical(id="fleet-detail", classes="panel") as panel:
            panel.border_title = "Selected cluster (enter: open its report)"
            yield Static(id="fleet-detail-text")
            yield Static(id="fleet-detail-problem", classes="error")
        yield Static("", id="fleet-status", classes="status")

    def on_mount(self) -> None:
        table = self.query_one("#fleet", RowTable)
        self._show_sort(table)
        table.focus()
        self._show(0)
        self._status()

    def _title(self) -> str:
        usable = sum(1 for e in self.entries if e.ok)
        return f"Clusters ({len(self.entries)}, {usable} with a usable report)"

    def _status(self) -> None:
        phrases = [f"sorted by {self._sort_words()}", *SORT_KEYS_HINT]
        if self.loading:
            phrases.insert(0, "reloading the directory…")
        # In 80 columns it takes two lines, broken between two phrases ("click / a header" was not).
        self.query_one("#fleet-status", Static).update(PhraseLines(phrases))

    # -- the highlighted cluster ------------------------------------------------------------------

    @property
    def highlighted(self) -> FleetEntry | None:
        if not self.entries:
            return None
        return self.entries[min(self.query_one("#fleet", RowTable).cursor, len(self.entries) - 1)]

    def _show(self, position: int) -> None:
        detail = self.query_one("#fleet-detail-text", Static)
        problem = self.query_one("#fleet-detail-problem", Static)
        entry = self.entries[min(position, len(self.entries) - 1)] if self.entries else None
        detail.update(self._detail(entry) if entry is not None else Text("—"))
        # Why a cluster has no usable report: wrapped whole under the facts, never cut.
        problem.display = bool(entry is not None and entry.error)
        if entry is not None and entry.error:
            problem.update(Text.assemble(("problem    ", "bold"), safe_text(entry.error, 400)))

    def _detail(self, e: FleetEntry) -> Text:
        """One line per fact, cut at the panel's edge (the .tcss): the report has the rest."""
        text = Text()

        def line(label: str, value: str, style: str = "") -> None:
            text.append("\n" if text else "")
            text.append(f"{label:<11}", "bold")
            text.append(safe_text(value, 400), style)

        line("cluster", f"{e.context}" + (f" ({e.server})" if e.server else ""))
        # the file's name first: it tells two snapshots of one cluster apart, the folder may be cut
        line("snapshot", f"{e.snapshot.name} in {e.snapshot.parent}" if e.snapshot else "none")
        if e.collected_at is not None:
            now = self.audit_app.clock()
            when = f"{e.collected_at:%Y-%m-%d %H:%M:%S} UTC, {ago(e.collected_at, now)}"
            line("collected", when + (f", k8saudit {e.tool_version}" if e.tool_version else ""))
        if e.collected_at is not None:
            counts = ", ".join(
                f"{e.problems[s.value]} {s.value}" for s in Severity if e.problems.get(s.value)
            )
            line("failing", (counts or "nothing") + (f"; {e.waived} waived" if e.waived else ""))
            for i, w in enumerate(e.worst):
                line(
                    "worst" if i == 0 else "",
                    f"{w.severity.upper():<8} {w.check_id:<9} {w.subject}: {w.message}",
                )
            if e.unreadable:
                shown = ", ".join(e.unreadable[:8]) + (" …" if len(e.unreadable) > 8 else "")
                line("not read", f"{len(e.unreadable)} kinds: {shown}")
        return text

    @on(RowTable.Highlighted, "#fleet")
    def _highlighted(self, event: RowTable.Highlighted) -> None:
        self._show(event.index)

    @on(RowTable.Selected, "#fleet")
    def _open(self, event: RowTable.Selected) -> None:
        self.audit_app.open_fleet_entry(self.entries[event.index])

    # -- sorting and reloading --------------------------------------------------------------------

    def action_sort(self, column: str) -> None:
        self.reverse = not self.reverse if self.sort_column == column else False
        self.sort_column = column
        self._refill()

    @on(RowTable.HeaderClicked, "#fleet")
    def _header_clicked(self, event: RowTable.HeaderClicked) -> None:
        self.action_sort(event.column)

    def _refill(self) -> None:
        table = self.query_one("#fleet", RowTable)
        chosen = self.highlighted
        self._order()
        cursor = _position(self.entries, chosen)
        table.set_source(self._rows(), cursor=cursor)
        self._show_sort(table)
        table.border_title = self._title()
        self._show(cursor)
        self._status()

    def _sort_words(self) -> str:
        """The order as a reader says it: "score, best first"."""
        column = self.sort_column
        default = ("most first", "fewest first") if column in MOST_FIRST else ("A to Z", "Z to A")
        name, first, then = SORT_WORDS.get(column, (column, *default))
        return f"{name}, {then if self.reverse else first}"

    def _show_sort(self, table: RowTable) -> None:
        """The header's arrow: ▼ when the rows go from the most to the least."""
        column = self.sort_column
        table.set_sort(SORT_HEADER.get(column, column), (column in MOST_FIRST) != self.reverse)

    def action_reload(self) -> None:
        self.audit_app.reload_fleet()

    def set_loading(self, loading: bool) -> None:
        self.loading = loading
        self._status()

    def update_entries(self, entries: list[FleetEntry]) -> None:
        """A reload: the same cluster stays highlighted."""
        chosen = self.highlighted
        self.entries = list(entries)
        self.loading = False
        if chosen is not None:
            same = [e for e in self.entries if (e.context, e.snapshot) == (chosen.context, chosen.snapshot)]
            if same:
                chosen = same[0]
        self._order()
        table = self.query_one("#fleet", RowTable)
        cursor = _position(self.entries, chosen)
        self.time_format = collected_format(self.entries)  # another snapshot may share a minute now
        table.set_columns(columns_for(self.time_format))
        table.set_source(self._rows(), cursor=cursor)
        table.border_title = self._title()
        self._show(cursor)
        self._status()

    def go_back(self) -> None:
        """The fleet is the root: esc stays here."""


def _position(entries: list[FleetEntry], chosen: FleetEntry | None) -> int:
    return next((i for i, e in enumerate(entries) if e is chosen), 0)

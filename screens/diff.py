"""Comparison of the shown report with another snapshot: what `k8saudit diff` prints, navigable.

Which side is old is decided by collection time (the worker does it, `screens.jobs.compare_with`)
and written at the top. Score changes overall and per area, then four tables (new, resolved,
changed, unchanged problems; `1`–`4` jump to them, `tab` moves on) and the objects added and
removed per kind (`5`). `enter` on a finding opens its detail in the report it comes from: a
resolved finding in the old one (its fix is what made it go).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.geometry import Size
from textual.widgets import Label, Static

from k8saudit import __version__
from k8saudit.diff import (
    CHANGED,
    NEW,
    RESOLVED,
    SHOWN_PLACES,
    UNCHANGED,
    Diff,
    FindingChange,
    ScoreDelta,
    delta_label,
    diff_reports,
)
from k8saudit.model import Finding, Subject
from k8saudit.registry import AREAS
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import AuditScreen, ScrollingBody
from screens.findings_index import FindingsIndex
from screens.overview import grade_class
from screens.table import Column, ListSource, Row, RowTable

CHANGE_COLUMNS = (
    Column("severity", "Severity", width=8, drop_rank=1),
    Column("check", "Check", width=8),
    Column("status", "Was → now", width=22),
    Column("subject", "Subject", ratio=1, min_width=12),
    Column("message", "Message", ratio=1, min_width=12, drop_rank=2),
)
# Side by side the objects get what the two other panels leave (30 cells at 140 columns): the
# kind and the object share it, so that neither is left out (→ pages through a cut one).
OBJECT_COLUMNS = (
    Column("change", "Change", width=8),
    Column("kind", "Kind", ratio=1, min_width=10),
    Column("object", "Object", ratio=2, min_width=12),
)
SECTIONS: tuple[tuple[str, str, str], ...] = (
    (NEW, "New findings", "Nothing new fails."),
    (RESOLVED, "Resolved", "Nothing was fixed."),
    (CHANGED, "Changed", "No finding changed its verdict."),
    (UNCHANGED, "Unchanged problems", "No problem is left from before."),
)
OBJECTS = "objects"
OBJECTS_SHOWN_PER_KIND = 200  # a whole namespace deleted should not make a 10 000-row table


SIDE_WIDTH = 54  # what fits after the indent in the "Comparing" panel
# Below this width the panels and the lists go one under the other (`-narrow` in the .tcss).
SIDE_BY_SIDE_FROM = 140
# Side by side, the panels on top are as tall as the longest of them (the "Comparing" text grows
# with notes, a long context name or path), up to this many lines; past it, that panel scrolls.
TOP_MOST_LINES = 16


def tail(text: str, width: int) -> str:
    """`text` cut from the left to `width` characters: the end of a path says the most."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def delta_text(d: ScoreDelta) -> tuple[str, str]:
    """("+7.3 ▲", "delta-up"): the change in points, as `k8saudit diff` prints it, and its class."""
    label, delta = delta_label(d), d.shown_delta(SHOWN_PLACES)
    if label is None or delta is None:
        return ("n/a", "delta-none")
    if not delta:
        return (label, "delta-none")
    return (f"{label} ▲", "delta-up") if delta > 0 else (f"{label} ▼", "delta-down")


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:5.{SHOWN_PLACES}f}"


class ChangeRows:
    def __init__(self, changes: list[FindingChange]) -> None:
        self.changes = changes

    def __len__(self) -> int:
        return len(self.changes)

    def row(self, position: int) -> Row:
        change = self.changes[position]
        finding = change.finding
        now = change.new
        tone = "waived" if now is not None and now.waived else None
        status_tone = None
        if change.change == RESOLVED:
            status_tone = "pass"
        elif now is not None:
            status_tone = "waived" if now.waived else now.status.value
        elif change.unseen:
            status_tone = "unknown"  # not visible in the new report: not a fix
        return Row(
            (change.severity, finding.check_id, change.transition("→"), str(finding.subject), change.message),
            (change.severity, None, status_tone),
            tone,
        )


class SummaryPanel(VerticalScroll):
    """A panel on top of the comparison ("Comparing", "Score"): a tab stop whenever the reader
    may not see all of it, so that it can be reached and read with the keyboard alone: while it
    scrolls (more lines than it has room for) or while the screen's body does (an 80x24
    terminal, where focusing it brings it into view). Where everything fits, tab goes from table
    to table as before."""

    def allow_focus(self) -> bool:
        return self.allow_vertical_scroll or any(
            isinstance(node, ScrollingBody) and node.allow_vertical_scroll for node in self.ancestors
        )


class DiffScreen(AuditScreen):
    SCOPE = "diff"
    BINDINGS = bindings_for("diff")
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (SIDE_BY_SIDE_FROM, "-wide"),
    ]
    TABLES: ClassVar[dict[str, str]] = {
        NEW: "diff-new",
        RESOLVED: "diff-resolved",
        CHANGED: "diff-changed",
        UNCHANGED: "diff-unchanged",
        OBJECTS: "diff-objects",
    }

    def __init__(
        self,
        diff: Diff,
        old_index: FindingsIndex,
        new_index: FindingsIndex,
        other_path: Path | None,
        current_is_new: bool,
    ) -> None:
        super().__init__()
        self.diff = diff
        self.old_index = old_index
        self.new_index = new_index
        self.other_path = other_path
        self.current_is_new = current_is_new
        self._positions: dict[int, dict[int, int]] = {}
        self._diff_pending = False
        self._prepare()

    def _prepare(self) -> None:
        diff = self.diff
        self.sections: dict[str, list[FindingChange]] = {
            NEW: diff.new_findings,
            RESOLVED: diff.resolved,
            CHANGED: diff.changed,
            UNCHANGED: diff.unchanged,
        }
        self.objects: list[tuple[str, str, Subject | None]] = []  # (change, kind, subject)
        for kind, changes in diff.objects.items():
            for word, items in (("added", changes.added), ("removed", changes.removed)):
                for namespace, name in items[:OBJECTS_SHOWN_PER_KIND]:
                    self.objects.append((word, kind, Subject(kind, namespace, name)))
                if len(items) > OBJECTS_SHOWN_PER_KIND:
                    self.objects.append((word, kind, None))
        self._positions.clear()

    def crumbs(self) -> list[str]:
        return ["Compare"]

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        # One scrolling body: in a small terminal (80x24) the panels and lists are taller than it.
        with ScrollingBody(id="diff-body"):
            yield from self._panels()
            yield from self._lists()

    def _panels(self) -> ComposeResult:
        with Horizontal(id="diff-top"):
            with SummaryPanel(id="diff-sides", classes="panel") as panel:
                panel.border_title = "Comparing"
                yield Static(self._sides(), id="diff-sides-text")
            with SummaryPanel(id="diff-scores", classes="panel") as panel:
                panel.border_title = "Score, old → new"
                yield from self._scores()
            objects = RowTable(
                OBJECT_COLUMNS,
                ListSource(self._object_rows()),
                empty_text="No object came or went.",
                id="diff-objects",
            )
            objects.border_title = self._objects_title()
            yield objects

    def _lists(self) -> ComposeResult:
        with Grid(id="diff-grid"):
            for key, title, empty in SECTIONS:
                table = RowTable(
                    CHANGE_COLUMNS, ChangeRows(self.sections[key]), empty_text=empty, id=self.TABLES[key]
                )
                number = [k for k, _, _ in SECTIONS].index(key) + 1
                table.border_title = f"{number} {title} ({len(self.sections[key]):,})"
                yield table

    def on_mount(self) -> None:
        self.call_after_refresh(self._focus_first)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_top)

    async def _rebuild(self, focus_id: str | None) -> None:
        await super()._rebuild(focus_id)  # the waivers applied again: new panels, new text
        self.call_after_refresh(self._fit_top)

    def _fit_top(self) -> None:
        """Side by side, the panels on top as tall as the "Comparing" text and the scores need
        (up to TOP_MOST_LINES); one under the other, each as tall as its own lines (the .tcss)."""
        top = self.query_one("#diff-top", Horizontal)
        objects = self.query_one("#diff-objects", RowTable)
        objects.border_title = self._objects_title(objects.size.width - 6)
        if self.size.width < SIDE_BY_SIDE_FROM:
            top.styles.height = None
            return
        sides = self.query_one("#diff-sides", SummaryPanel)
        width = sides.scrollable_content_region.width
        if not width:
            return
        text = self.query_one("#diff-sides-text", Static)
        lines = max(
            text.get_content_height(Size(width, 0), self.size, width), len(self.query(".diff-score-line"))
        )
        top.styles.height = min(lines, TOP_MOST_LINES) + 2  # and their borders

    def _focus_first(self) -> None:
        """The first list with something in it: usually the new findings. In a small terminal
        (one under the other), what is compared comes first: the lists are a tab or a digit away."""
        sides = self.query_one("#diff-sides", SummaryPanel)
        if sides.focusable and self.size.width < SIDE_BY_SIDE_FROM:
            self.set_focus(sides)
            return
        for key, _, _ in SECTIONS:
            if self.sections[key]:
                self.action_jump(key)
                return
        self.action_jump(NEW)

    def _side(self, report_label: str, index: FindingsIndex, is_current: bool, when: str) -> Text:
        report = index.report
        text = Text()
        text.append(f"{report_label:<4}", "bold")
        text.append(safe_text(report.inventory.cluster.context or "cluster", 60))
        text.append(f"  collected {report.collection.finished_at.strftime(when)} UTC")
        text.append("\n    ")
        if is_current:
            text.append("the report shown")
            path = self.audit_app.report_path
            if path is not None:
                text.append(": ")
                text.append(tail(safe_text(path, None), SIDE_WIDTH - 22))
        else:
            text.append(tail(safe_text(self.other_path or "(in memory)", None), SIDE_WIDTH))
        return text

    def _sides(self) -> Text:
        diff = self.diff
        gap = (diff.new.collection.finished_at - diff.old.collection.finished_at).total_seconds()
        # Less than an hour apart, the minutes may be the same: the seconds tell the two apart.
        when = "%Y-%m-%d %H:%M:%S" if abs(gap) < 3600 else "%Y-%m-%d %H:%M"
        text = Text()
        text.append_text(self._side("OLD", self.old_index, not self.current_is_new, when))
        text.append("\n")
        text.append_text(self._side("NEW", self.new_index, self.current_is_new, when))
        text.append(f"\n{_span(gap)} apart; the older one is OLD.")
        text.append(
            "\nAs recorded in the snapshots."
            if diff.as_recorded
            else f"\nBoth evaluated with the checks and waivers of k8saudit {__version__}."
        )
        for note in diff.notes:
            text.append("\nnote: ", "bold")
            text.append(safe_text(note, 300))
        counts = (
            f"{len(diff.new_findings)} new · {len(diff.resolved)} resolved · {len(diff.changed)} changed · "
            f"{len(diff.unchanged)} unchanged"
        )
        text.append("\n" + counts, "bold")
        if diff.passing_added or diff.passing_removed:
            text.append(f" · passing subjects +{diff.passing_added} −{diff.passing_removed}")
        return text

    def _scores(self) -> ComposeResult:
        diff = self.diff
        # like `k8saudit diff`: an area scored in neither report is left out
        areas = [
            (a, diff.areas[a])
            for a in AREAS
            if diff.areas[a].old is not None or diff.areas[a].new is not None
        ]
        rows = [("overall", diff.overall), *areas]
        for name, d in rows:
            delta, delta_class = delta_text(d)
            with Horizontal(classes="diff-score-line" + (" diff-overall" if name == "overall" else "")):
                yield Label(name, classes="area-name")
                yield Label(d.old_grade, classes=f"area-grade grade {grade_class(d.old)}")
                yield Label("→", classes="diff-arrow")
                yield Label(d.new_grade, classes=f"area-grade grade {grade_class(d.new)}")
                yield Label(f"{_score(d.old)} → {_score(d.new)}", classes="diff-values")
                yield Label(delta, classes=f"diff-delta {delta_class}")

    def _objects_title(self, room: int = 0) -> str:
        """The objects panel's title: the kinds that came or went, with their counts, as many as
        fit in `room` cells (0: four); the others counted ("+3 kinds"): their rows are listed."""
        parts = [f"{kind} +{len(c.added)} −{len(c.removed)}" for kind, c in self.diff.objects.items()]
        title = "5 Objects"
        for shown in range(len(parts) if room > 0 else min(len(parts), 4), -1, -1):
            rest = len(parts) - shown
            summary = parts[:shown] + ([f"+{rest} kind{'s' if rest != 1 else ''}"] if rest else [])
            title = "5 Objects" + (f": {', '.join(summary)}" if summary else "")
            if room <= 0 or len(title) <= room:
                break
        return title

    def _object_rows(self) -> list[Row]:
        rows = []
        for word, kind, subject in self.objects:
            if subject is None:
                rows.append(Row(("", kind, f"… more {word} (see k8saudit diff)"), (), "dim"))
                continue
            where = f"{subject.namespace}/{subject.name}" if subject.namespace else subject.name
            rows.append(Row((word, kind, where), ("ok" if word == "added" else "dim",)))
        for coverage in self.diff.coverage:
            rows.append(
                Row(
                    ("coverage", coverage.kind, f"{coverage.old} → {coverage.new} (objects not compared)"),
                    ("forbidden",),
                )
            )
        return rows

    # -- navigation ---------------------------------------------------------------------------

    def action_jump(self, section: str) -> None:
        table_id = self.TABLES.get(section)
        if table_id:
            self.set_focus(self.query_one(f"#{table_id}", RowTable))

    def _position(self, index: FindingsIndex, finding: Finding) -> int | None:
        positions = self._positions.get(id(index))
        if positions is None:
            positions = self._positions[id(index)] = {id(f): i for i, f in enumerate(index.findings)}
        return positions.get(id(finding))

    def _label(self, index: FindingsIndex) -> str | None:
        """How a detail opened from here names a report that is not the one shown."""
        if index is self.audit_app.index:
            return None
        return "old snapshot" if index is self.old_index else "new snapshot"

    @on(RowTable.Selected)
    def _open(self, event: RowTable.Selected) -> None:
        table_id = event.table.id
        if table_id == self.TABLES[OBJECTS]:
            self._open_object(event.index)
            return
        section = next((k for k, t in self.TABLES.items() if t == table_id), None)
        if section is None:
            return
        change = self.sections[section][event.index]
        # a resolved finding is shown as it was (the problem that went); the others as they are now
        if section == RESOLVED or change.new is None:
            finding, index = change.old, self.old_index
        else:
            finding, index = change.new, self.new_index
        position = self._position(index, finding) if finding is not None else None
        if position is not None:
            self.audit_app.open_finding(position, index, self._label(index))

    def _open_object(self, position: int) -> None:
        if position >= len(self.objects):
            return  # a coverage row: there is no object to show
        word, _, subject = self.objects[position]
        if subject is None:
            return
        index = self.new_index if word == "added" else self.old_index
        self.audit_app.open_subject(subject, index, self._label(index))

    # -- after the waivers were applied again ------------------------------------------------------

    def index_replaced(self, old: FindingsIndex, new: FindingsIndex) -> None:
        if old is self.old_index:
            self.old_index = new
        elif old is self.new_index:
            self.new_index = new
        else:
            return
        if not self._diff_pending:  # both sides are usually replaced together: diff them once
            self._diff_pending = True
            self.call_later(self._diff_again)

    def _diff_again(self) -> None:
        self._diff_pending = False
        self.diff = diff_reports(self.old_index.report, self.new_index.report)
        self._prepare()
        self.rebuild_later()


def _span(seconds: float) -> str:
    """How far apart two collections are, in the largest unit that counts at least one."""
    seconds = abs(seconds)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a second"

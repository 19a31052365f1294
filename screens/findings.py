"""Findings: every finding of the report in one virtual table, failing first.

Filters (text, severity, status, area, namespace, waived) and sorting run over the precomputed
`FindingsIndex`; the table only ever renders the rows on screen, so 50 000 findings scroll and
filter like 50. Text filtering is debounced on both edges: a key typed after a pause filters at
once, and the keys of a burst are gathered into one run after the last of them, so a word typed
fast runs the filter twice, not once per key.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static
from textual.widgets._select import SelectOverlay  # not exported; FilterSelect's tests guard it

from k8saudit.model import Severity, Status
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import AuditScreen
from screens.fields import TextField
from screens.findings_index import PROBLEMS, FindingFilter, FindingsIndex, IndexedRows, SortOrder
from screens.table import Column, Row, RowTable
from screens.text import FirstThatFits

ALL = "*"
# Terminal columns the filter bar needs on one line; narrower, the dropdowns go on a second line.
ONE_LINE_FILTERS_FROM = 140
COLUMNS = (
    Column("severity", "Severity", width=9),
    Column("status", "Status", width=14),
    Column("area", "Area", width=10, drop_rank=1),  # the check id names it
    Column("check", "Check", width=9),
    Column("subject", "Subject", ratio=4, min_width=20),
    Column("message", "Message", ratio=5, min_width=20),
    Column("points", "Points", width=7, align="right"),
)
SEVERITY_CHOICES = [("critical", "critical"), ("high", "high+"), ("medium", "medium+"), ("low", "low+")]
STATUS_CHOICES = (
    (PROBLEMS, "fail + warn"),
    *((s.value, s.value) for s in Status),
)


def focus_or_type_slash(screen: Screen[None], field: Input) -> None:
    """`/` (a priority binding): focus the filter at once, or type "/" when already in it.

    `set_focus`, not `focus()`: focus() is deferred, and keys typed right after "/" would still
    reach the table and run its actions instead of filtering."""
    if field.has_focus:
        field.insert_text_at_cursor("/")
    else:
        screen.set_focus(field)


def status_word(status: Status, waived: bool) -> str:
    return f"{status.value} (waived)" if waived else status.value


class FindingRows(IndexedRows):
    """The visible findings (indices into the index) as table rows."""

    def row(self, position: int) -> Row:
        i = self.rows[position]
        index = self.index
        finding = index.findings[i]
        severity = index.severity[i]
        points = index.points[i]
        return Row(
            (
                severity.value if severity else "?",
                status_word(finding.status, finding.waived),
                index.area[i],
                finding.check_id,
                index.subject_text[i],
                finding.message,
                f"+{points:.2f}" if points else "",
            ),
            (
                severity.value if severity else None,
                "waived" if finding.waived else finding.status.value,
                None,
                None,
                None,
                None,
                "points",
            ),
            "waived" if finding.waived else None,
        )


def _choices(pairs: list[tuple[str, str]], everything: str) -> list[tuple[Text, str]]:
    return [(Text(everything), ALL), *((Text(safe_text(label, 80)), value) for value, label in pairs)]


class FilterSelect(Select[str]):
    """A filter dropdown that says when an option is picked, the one already chosen included:
    Select posts Changed only for a new value, and its overlay's message does not bubble."""

    class Picked(Message):
        pass

    @on(SelectOverlay.UpdateSelection)
    def _picked(self) -> None:
        self.post_message(self.Picked())


def _picker(select_id: str, pairs: list[tuple[str, str]], everything: str, value: str | None) -> Select[str]:
    """A filter dropdown: `everything` (no filter) first, then `pairs` of (value, label)."""
    return FilterSelect(
        _choices(pairs, everything), value=value or ALL, allow_blank=False, compact=True, id=select_id
    )


def count_lines(shown: int, total: int, still_open: int, waived: int, sort: SortOrder) -> tuple[str, ...]:
    """The count under the findings, from the most said to the least, for `FirstThatFits`: the
    word "findings" gives way first, then the sort (the header's arrow says it too); how many
    are shown, failing and waived stay. Counted as the overview counts them (waived ones
    apart), so the two screens agree."""
    of = f"{shown:,} of {total:,}"
    problems = f"{still_open:,} failing or warning" + (f" (+{waived:,} waived)" if waived else "")
    order = f"{sort.column}, {sort.words}"
    return (
        f"{of} findings · {problems} · {order}",
        f"{of} · {problems} · {order}",
        f"{of} · {problems}",
        f"{shown:,}/{total:,} · {still_open:,} fail/warn" + (f" +{waived:,} waived" if waived else ""),
    )


class FindingsScreen(AuditScreen):
    SCOPE = "findings"
    POSITIONS = ("rows_shown",)
    BINDINGS = bindings_for("findings")
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (ONE_LINE_FILTERS_FROM, "-wide"),
    ]

    def __init__(self, index: FindingsIndex, initial: FindingFilter | None = None) -> None:
        super().__init__()
        self.index = index
        self.filter = initial or FindingFilter()
        self.sort = SortOrder()
        self.rows_shown: list[int] = []
        self._debounce: Timer | None = None
        self._filtered_at = float("-inf")  # when the last filter run ended (the app's monotonic clock)

    def crumbs(self) -> list[str]:
        return ["Findings"]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filter-bar"):
            with Horizontal(id="filter-words"):
                yield Label("/", classes="filter-key")
                yield TextField(
                    self.filter.text,
                    placeholder="filter: words in check, subject, message…",
                    id="filter-text",
                    compact=True,
                )
                yield Label("", id="filter-waived")
            with Horizontal(id="filter-pickers"):
                yield from self._pickers()
        yield RowTable(
            COLUMNS,
            empty_text="No finding matches these filters (x clears them).",
            mark_unfocused=True,
            id="findings",
        )
        yield Static("", id="findings-count", classes="status")

    def _pickers(self) -> ComposeResult:
        flt = self.filter
        severity = flt.min_severity.value if flt.min_severity else None
        yield _picker("filter-severity", SEVERITY_CHOICES, "any severity", severity)
        yield _picker("filter-status", list(STATUS_CHOICES), "any status", flt.status)
        yield _picker("filter-area", [(a, a) for a in self.index.areas()], "any area", flt.area)
        namespaces = [(n, n) for n in self.index.namespaces()]
        yield _picker("filter-namespace", namespaces, "any namespace", flt.namespace)

    def on_mount(self) -> None:
        self.query_one("#filter-text", Input).cursor_blink = self.audit_app.cursor_blink
        self.set_focus(self.table)
        self._apply()

    @property
    def table(self) -> RowTable:
        return self.query_one("#findings", RowTable)

    # -- filtering ----------------------------------------------------------------------------

    def _apply(self) -> None:
        """Run the current filter and sort; keep the highlighted finding if it is still shown."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        highlighted = self.highlighted
        self.rows_shown = self.index.select(self.filter, self.sort)
        cursor = 0
        if highlighted is not None and self.rows_shown:
            try:
                cursor = self.rows_shown.index(highlighted)
            except ValueError:
                cursor = 0
        self.table.set_source(FindingRows(self.index, self.rows_shown), cursor=cursor)
        self.table.set_sort(self.sort.column, self.sort.descending)
        self._show_count()
        self._filtered_at = self.audit_app.monotonic()

    def _show_count(self) -> None:
        problems = sum(map(self.index.problem.__getitem__, self.rows_shown))
        still_open = sum(map(self.index.open_problem.__getitem__, self.rows_shown))
        count = count_lines(
            len(self.rows_shown), len(self.index), still_open, problems - still_open, self.sort
        )
        self.query_one("#findings-count", Static).update(FirstThatFits(*count))
        waived = self.query_one("#filter-waived", Label)
        waived.update("waived hidden (W)" if self.filter.hide_waived else "waived shown (W)")

    @property
    def highlighted(self) -> int | None:
        """Index (into the findings) of the row under the cursor."""
        if not self.rows_shown:
            return None
        return self.rows_shown[min(self.table.cursor, len(self.rows_shown) - 1)]

    def set_filter(self, flt: FindingFilter) -> None:
        self.filter = flt
        self._apply()

    @on(Input.Changed, "#filter-text")
    def _text_changed(self, event: Input.Changed) -> None:
        if event.value == self.filter.text:
            return
        self.filter = FindingFilter(**{**self._filter_fields(), "text": event.value})
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        wait = self.audit_app.debounce_s
        if self.audit_app.monotonic() - self._filtered_at >= wait:
            self._apply()  # the first key after a pause: answered at once
        else:  # typed right after a run: gathered with the keys that follow
            self._debounce = self.set_timer(wait, self._apply)

    @on(Input.Submitted, "#filter-text")
    def _text_submitted(self) -> None:
        self._apply()
        self.set_focus(self.table)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        value = None if event.value in (ALL, Select.NULL) else str(event.value)
        fields = self._filter_fields()
        which = event.select.id
        if which == "filter-severity":
            fields["min_severity"] = Severity(value) if value else None
        elif which == "filter-status":
            fields["status"] = value
        elif which == "filter-area":
            fields["area"] = value
        elif which == "filter-namespace":
            fields["namespace"] = value
        else:
            return
        flt = FindingFilter(**fields)
        if flt != self.filter:
            self.filter = flt
            self._apply()

    @on(FilterSelect.Picked)
    def _picked(self) -> None:
        self.call_after_refresh(self.table.focus)  # after the select has closed its overlay

    def _filter_fields(self) -> dict[str, object]:
        f = self.filter
        return {
            "text": f.text,
            "min_severity": f.min_severity,
            "area": f.area,
            "namespace": f.namespace,
            "status": f.status,
            "hide_waived": f.hide_waived,
        }

    # -- actions (rows of screens.actions with scope "findings") -----------------------------------

    def action_focus_filter(self) -> None:
        focus_or_type_slash(self, self.query_one("#filter-text", Input))

    def _open_select(self, select_id: str) -> None:
        select = self.query_one(f"#{select_id}", Select)
        self.set_focus(select)
        select.action_show_overlay()

    def action_pick_severity(self) -> None:
        self._open_select("filter-severity")

    def action_pick_status(self) -> None:
        self._open_select("filter-status")

    def action_pick_area(self) -> None:
        self._open_select("filter-area")

    def action_pick_namespace(self) -> None:
        self._open_select("filter-namespace")

    def action_toggle_waived(self) -> None:
        self.set_filter(
            FindingFilter(**{**self._filter_fields(), "hide_waived": not self.filter.hide_waived})
        )

    def action_clear_filters(self) -> None:
        self.filter = FindingFilter()
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#filter-text", Input).value = ""
            for select_id in ("filter-severity", "filter-status", "filter-area", "filter-namespace"):
                self.query_one(f"#{select_id}", Select).value = ALL
        self._apply()

    def action_sort(self, column: str) -> None:
        """Sort by `column` in its first order (the worst, the most first; A to Z), or turn the
        order around when it is already sorted by it."""
        reverse = not self.sort.reverse if self.sort.column == column else False
        self.sort = SortOrder(column, reverse)
        self._apply()

    def action_waive(self) -> None:
        highlighted = self.highlighted
        if highlighted is None:
            self.notify("No finding is selected.", severity="warning")
            return
        self.audit_app.waive(self.index, highlighted)

    def action_probe(self) -> None:
        highlighted = self.highlighted
        if highlighted is None:
            self.notify("No finding is selected.", severity="warning")
            return
        self.audit_app.probe(self.index, highlighted)

    def index_replaced(self, old: FindingsIndex, new: FindingsIndex) -> None:
        if self.index is old:
            self.index = new
            self._apply()  # the same finding stays highlighted (positions do not change)

    @on(RowTable.HeaderClicked, "#findings")
    def _header_clicked(self, event: RowTable.HeaderClicked) -> None:
        self.action_sort(event.column)

    @on(RowTable.Selected, "#findings")
    def _open(self, event: RowTable.Selected) -> None:
        self.audit_app.open_finding(self.rows_shown[event.index])

    def on_key(self, event: events.Key) -> None:
        """esc on an open dropdown closes it and focuses its Select at once.

        Left to the Select, the overlay asks it to close with a message and keeps the focus until
        that is handled: an esc typed right behind the first (a quick double tap) reached the
        closing overlay again, the focus stayed on the dropdown, and the keys after it too."""
        if event.key != "escape":
            return
        dropdown = next((select for select in self.query(Select) if select.expanded), None)
        if dropdown is not None:
            event.stop()
            dropdown.expanded = False
            self.set_focus(dropdown)

    def go_back(self) -> None:
        focused = self.focused
        if isinstance(focused, Input | Select):
            self.set_focus(self.table)  # esc leaves the filter bar first
        else:
            self.app.pop_screen()

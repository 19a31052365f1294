"""Overview: the grade, one bar per area, the fixes worth the most points, coverage, identity."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static

from k8saudit.inventory import KINDS_BY_KEY, NOT_SERVED
from k8saudit.model import Severity, Status
from k8saudit.registry import AREAS
from k8saudit.report import Report
from k8saudit.scoring import grade
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import AuditScreen, ScrollingBody
from screens.findings import COLUMNS as FINDING_COLUMNS
from screens.findings import FindingRows
from screens.findings_index import PROBLEMS, FindingFilter, FindingsIndex, SortOrder
from screens.table import Column, ListSource, Row, RowTable

# Below this width the cluster panel goes under the score and the areas (`-narrow` in the .tcss):
# beside them (40 + 70 cells), it would leave the areas less than the 40 cells an area's name,
# grade, score and a readable bar take.
CLUSTER_BESIDE_FROM = 150
FIX_COLUMNS = (
    Column("points", "Points", width=7, align="right"),
    Column("check", "Check", width=9),
    Column("severity", "Severity", width=9),
    Column("area", "Area", width=11),
    Column("title", "What to fix", ratio=1),
    Column("subjects", "Subjects", width=9, align="right"),
)
GAP_COLUMNS = (
    Column("kind", "Kind not read", width=30),
    Column("state", "State", width=11),
    Column("checks", "Checks left unknown", width=28, drop_rank=1),
    Column("message", "Why", ratio=1),
)
COVERAGE_STATE_WORDS = {"forbidden": "forbidden", "not-served": "not served", "error": "error"}


def grade_class(value: float | None) -> str:
    letter = grade(value)
    return "grade-none" if letter == "-" else f"grade-{letter.lower()}"


def score_bar(value: float | None, width: int) -> str:
    if value is None:
        return "·" * width
    filled = round(value / 100 * width)
    return "█" * filled + "░" * (width - filled)


class ScoreBar(Static):
    """A score as a bar as wide as the widget: a bar cut by a narrow panel would show a wrong score."""

    def __init__(self, value: float | None, *, classes: str) -> None:
        super().__init__(classes=classes)
        self.value = value

    def render(self) -> str:
        return score_bar(self.value, self.size.width)


def ago(then: datetime, now: datetime) -> str:
    seconds = (now - then).total_seconds()
    if seconds < 0:
        return "in the future"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


class OverviewScreen(AuditScreen):
    SCOPE = "overview"
    POSITIONS = ("failing",)
    BINDINGS = bindings_for("overview")
    # No automatic focus ("" turns it off; None would mean the app's): Textual's scrolls to the
    # table it focuses, and in a short terminal the grade above it would start out of view.
    AUTO_FOCUS = ""
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (CLUSTER_BESIDE_FROM, "-wide"),
    ]

    def __init__(self, report: Report, index: FindingsIndex) -> None:
        super().__init__()
        self._prepare(report, index)

    def _prepare(self, report: Report, index: FindingsIndex) -> None:
        self.report = report
        self.index = index
        problems = FindingFilter(status=PROBLEMS, hide_waived=True)
        self.failing = index.select(problems, SortOrder("severity"))
        self.fixes = report.scores.top_fixes(12)
        self.gaps = sorted(report.coverage_gaps.items(), key=lambda item: KINDS_BY_KEY[item[0]].kind)

    def crumbs(self) -> list[str]:
        return [self.report.inventory.cluster.context or "cluster", "Overview"]

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        # One scrolling body: in a small terminal (80x24) the panels and tables are taller than
        # the screen, and the top bar and the footer must stay where they are.
        with ScrollingBody(id="overview-body"):
            yield from self._panels()
            yield from self._tables()

    def _panels(self) -> ComposeResult:
        with Horizontal(id="overview-top"):
            with Horizontal(id="overview-scores"):
                with Vertical(id="score-panel", classes="panel") as panel:
                    panel.border_title = "Score"
                    yield from self._score()
                with Vertical(id="areas-panel", classes="panel") as panel:
                    panel.border_title = "Areas"
                    yield from self._areas()
            with Vertical(id="cluster-panel", classes="panel") as panel:
                panel.border_title = "Cluster"
                yield Static(self._identity(), id="identity")

    def _tables(self) -> ComposeResult:
        fixes = RowTable(FIX_COLUMNS, ListSource(self._fix_rows()), empty_text="Nothing to fix.", id="fixes")
        fixes.border_title = "Top fixes, by points gained (enter: details)"
        yield fixes
        gaps = RowTable(
            GAP_COLUMNS,
            ListSource(self._gap_rows()),
            empty_text="Every kind was read: no coverage gaps.",
            id="gaps",
        )
        gaps.border_title = f"Coverage gaps ({len(self.gaps)})"
        yield gaps
        notes = self._notes()
        yield Static(notes, id="notes", classes="" if notes else "empty")
        failing = RowTable(
            FINDING_COLUMNS,
            FindingRows(self.index, self.failing),
            empty_text="No failing finding.",
            id="failing",
        )
        failing.border_title = f"Failing findings, worst first ({len(self.failing):,}) — f: every finding"
        yield failing

    def on_mount(self) -> None:
        # Not scrolled to: in a short terminal the grade, above the table, stays in view.
        self.set_focus(self.query_one("#fixes", RowTable), scroll_visible=False)

    def on_screen_resume(self) -> None:
        self.audit_app.take_rechecked()  # today's findings of a re-checked snapshot, if ready

    def show_identity(self) -> None:
        """Say again what the findings are (a re-check failed: they stay as saved)."""
        self.query_one("#identity", Static).update(self._identity())

    def _score(self) -> ComposeResult:
        scores = self.report.scores
        with Horizontal(id="grade-line"):
            yield Label(scores.grade, id="grade", classes=f"grade {grade_class(scores.overall)}")
            overall = "n/a" if scores.overall is None else f"{scores.overall:.1f}"
            yield Label(f"{overall} / 100", id="overall")
        counts = self.index.severity_counts()
        for severity in Severity:
            count = counts[severity]
            failing = count[Status.FAIL] + count[Status.WARN]
            checked = sum(count.values())
            with Horizontal(classes="severity-line"):
                yield Label(severity.value.upper(), classes=f"severity sev-{severity.value}")
                yield Label(f"{failing:>5} failing of {checked:,}", classes="severity-count")
        findings = self.report.findings
        unknown = sum(1 for f in findings if f.status is Status.UNKNOWN)
        errors = sum(1 for f in findings if f.status is Status.ERROR)
        waived = sum(1 for f in findings if f.waived)
        yield Label(f"unscored: {unknown} unknown · {errors} error", classes="hint")
        summary = self.report.waivers
        expired, unused = len(summary.expired), len(summary.unused)
        yield Label(f"waived:   {waived}" + ("  (^w: waivers)" if summary.uses else ""), classes="hint")
        if expired or unused:  # waivers that need a look: renew or drop them
            yield Label(f"waivers:  {expired} expired · {unused} unused", classes="hint")

    def _areas(self) -> ComposeResult:
        scores = self.report.scores
        for area in AREAS:
            area_score = scores.areas[area]
            css = grade_class(area_score.score)
            value = "n/a" if area_score.score is None else f"{area_score.score:5.1f}"
            with Horizontal(classes="area-line"):
                yield Label(area, classes="area-name")
                yield Label(area_score.grade, classes=f"area-grade grade {css}")
                yield Label(value, classes="area-score")
                yield ScoreBar(area_score.score, classes=f"area-bar {css}")

    def _identity(self) -> Text:
        report = self.report
        inv = report.inventory
        cluster = inv.cluster
        now = self.audit_app.clock()
        collected = report.collection.finished_at
        calendar_age = report.calendar.age_days(now.date())
        rows = [
            ("context", cluster.context or "—"),
            ("server", cluster.server or "—"),
            ("version", cluster.git_version or "unknown"),
            (
                "provider",
                inv.provider.name
                + (" (managed control plane)" if inv.provider.managed_control_plane else ""),
            ),
            ("nodes", f"{len(inv.items('nodes')):,}"),
            ("pods", f"{len(inv.items('pods')):,}"),
            ("namespaces", f"{len(inv.items('namespaces')):,}"),
            ("collected", f"{collected:%Y-%m-%d %H:%M} UTC, {ago(collected, now)}"),
            ("took", f"{report.collection.duration_s:.1f}s with k8saudit {report.collection.tool_version}"),
            ("calendar", f"releases as of {report.calendar.as_of.isoformat()} ({calendar_age} days old)"),
        ]
        if cluster.insecure_skip_tls_verify:
            rows.append(("TLS", "verification disabled (insecure-skip-tls-verify)"))
        if self.audit_app.rechecking is report:
            rows.append(("findings", "as saved; re-checking with today's checks…"))
        elif report.as_recorded:
            rows.append(("findings", "as recorded in the snapshot, not re-evaluated"))
        text = Text()
        for i, (label, value) in enumerate(rows):
            if i:
                text.append("\n")
            text.append(f"{label:<11}", "bold")
            text.append(safe_text(value, 300))
        return text

    def _fix_rows(self) -> list[Row]:
        rows = []
        for check_id, points, count in self.fixes:
            meta = self.report.checks[check_id]
            rows.append(
                Row(
                    (
                        f"+{points:.1f}",
                        check_id,
                        meta.severity.value,
                        meta.area,
                        meta.title,
                        f"{count:,}",
                    ),
                    ("points", None, meta.severity.value),
                )
            )
        return rows

    def _gap_rows(self) -> list[Row]:
        rows = []
        for key, coverage in self.gaps:
            affected = [cid for cid, meta in sorted(self.report.checks.items()) if key in meta.inputs]
            shown = ", ".join(affected[:3]) + (f" +{len(affected) - 3}" if len(affected) > 3 else "")
            state = COVERAGE_STATE_WORDS.get(coverage.state, coverage.state)
            tone = "not-served" if coverage.state == NOT_SERVED else coverage.state
            rows.append(Row((KINDS_BY_KEY[key].kind, state, shown or "—", coverage.message), (None, tone)))
        return rows

    def _notes(self) -> Text:
        text = Text()
        for note in self.report.collection.notes:
            if text:
                text.append("\n")
            text.append("note: ", "bold")
            text.append(safe_text(note, 300))
        return text

    # -- drilling in --------------------------------------------------------------------------

    @on(RowTable.Selected, "#fixes")
    def _open_fix(self, event: RowTable.Selected) -> None:
        check_id = self.fixes[event.index][0]
        self.audit_app.open_check(check_id)

    @on(RowTable.Selected, "#failing")
    def _open_failing(self, event: RowTable.Selected) -> None:
        self.audit_app.open_finding(self.failing[event.index])

    @on(RowTable.Selected, "#gaps")
    def _open_gap(self, event: RowTable.Selected) -> None:
        self.audit_app.open_findings(FindingFilter(status=Status.UNKNOWN.value))

    def index_replaced(self, old: FindingsIndex, new: FindingsIndex) -> None:
        if self.index is not old:
            return
        self._prepare(new.report, new)
        self.rebuild_later("fixes")

    def go_back(self) -> None:
        """The overview is the root of a report: esc stays here, or goes back to the fleet."""
        self.audit_app.back_to_fleet()

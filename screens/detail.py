"""Finding detail: what the check guards against, this finding's evidence, every subject of the
check with its status, how to fix it, and where to read more. `enter` on a subject opens it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Markdown, Static
from textual.widgets.markdown import MarkdownBlock, MarkdownFence

from k8saudit.registry import CheckMeta
from k8saudit.render import waiver_line
from k8saudit.scoring import CheckScore
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import AuditScreen
from screens.findings import status_word
from screens.findings_index import FindingsIndex, IndexedRows
from screens.table import Column, Row, RowTable
from screens.text import FoldedLines, plain, reflow, title, to_yaml

SUBJECT_COLUMNS = (
    Column("status", "Status", width=14),
    Column("subject", "Subject", ratio=1, min_width=20),
    Column("message", "Message", ratio=1, min_width=20, drop_rank=2),  # also in the pane
    Column("points", "Points", width=7, align="right", drop_rank=1),
)


class ScrollingFence(MarkdownFence):
    """A code block of a remediation that scrolls sideways to its long lines instead of cutting
    them: a command is copied whole or not at all. A tab stop (left, right, home and end scroll
    it) only while a line is wider than the pane."""

    # Scroll keys, like those of any scrolling pane (which screens.actions does not list either).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "scroll_left", show=False),
        Binding("right", "scroll_right", show=False),
        Binding("home", "line_start", show=False),
        Binding("end", "line_end", show=False),
    ]

    def allow_focus(self) -> bool:
        return self.max_scroll_x > 0

    def action_line_start(self) -> None:
        self.scroll_to(x=0, animate=False)

    def action_line_end(self) -> None:
        self.scroll_to(x=self.max_scroll_x, animate=False)


class RemediationMarkdown(Markdown):
    BLOCKS: ClassVar[dict[str, type[MarkdownBlock]]] = {
        **Markdown.BLOCKS,
        "fence": ScrollingFence,
        "code_block": ScrollingFence,
    }


class SubjectRows(IndexedRows):
    def row(self, position: int) -> Row:
        i = self.rows[position]
        finding = self.index.findings[i]
        points = self.index.points[i]
        return Row(
            (
                status_word(finding.status, finding.waived),
                self.index.subject_text[i],
                finding.message,
                f"+{points:.2f}" if points else "",
            ),
            ("waived" if finding.waived else finding.status.value, None, None, "points"),
            "waived" if finding.waived else None,
        )


def points_summary(check: CheckScore | None, gain: float) -> str:
    """What fixing the check would gain, or why nothing: a waived failure is out of the score
    like a pass, but it is not a pass."""
    waived = check.waived if check else 0
    failing = check.counts["fail"] + check.counts["warn"] if check else 0
    if not gain and not failing:
        if waived:
            return f"nothing to gain: every failing subject is waived ({waived} waived)"
        if check and check.counts["pass"]:
            return "nothing to gain: every subject passes"
        return "nothing to gain: no subject is scored"
    if gain:
        summary = f"fixing every {'unwaived ' if waived else ''}subject gains +{gain:.1f} points"
    else:
        summary = f"{failing} failing, worth no points in the score"
    return f"{summary} ({waived} waived)" if waived else summary


class DetailScreen(AuditScreen):
    SCOPE = "detail"
    POSITIONS = ("subjects",)
    BINDINGS = bindings_for("detail")

    def __init__(self, index: FindingsIndex, finding: int, label: str | None = None) -> None:
        super().__init__()
        self.index = index
        self.finding = finding
        self.label = label  # names the report when it is not the one shown ("old snapshot")
        self.check_id = index.findings[finding].check_id
        self.meta: CheckMeta | None = index.report.checks.get(self.check_id)
        self.subjects = index.subjects_of(self.check_id)

    def crumbs(self) -> list[str]:
        return [f"{self.check_id} ({self.label})" if self.label else self.check_id]

    def compose_body(self) -> ComposeResult:
        meta = self.meta
        with Horizontal(id="detail"):
            with VerticalScroll(id="detail-body", can_focus=True) as body:
                body.border_title = title(self.check_id, 40)  # a recorded id comes from a file
                yield Static(
                    Text(meta.title if meta else "A check this version of k8saudit does not have"),
                    id="detail-title",
                )
                with Horizontal(id="detail-tags"):
                    if meta:
                        yield Label(
                            meta.severity.value.upper(), classes=f"severity sev-{meta.severity.value}"
                        )
                        yield Label(f"area {meta.area}", classes="tag")
                    yield Label(self._points_text(), classes="tag", id="detail-points")
                if self.label:
                    yield Static(self._origin_text(), id="detail-origin", classes="hint")
                # Evidence comes last: it can be long, and the fix should not scroll away under it.
                yield Label("Selected subject", classes="section")
                yield Static(id="detail-subject")
                yield Static(id="detail-message", classes="prose")
                if meta:
                    yield Label("Why it matters", classes="section")
                    yield Static(reflow(meta.rationale), classes="prose", markup=False)
                    yield Label("How to fix", classes="section")
                    yield RemediationMarkdown(meta.remediation, id="detail-remediation")
                    if meta.references:
                        yield Label("References", classes="section")
                        yield Static(Text("\n".join(meta.references)), id="detail-references")
                yield Label("Evidence (selected subject)", classes="section")
                yield Static(id="detail-evidence", classes="evidence")
            table = RowTable(SUBJECT_COLUMNS, SubjectRows(self.index, self.subjects), id="subjects")
            table.border_title = title(
                f"Every subject of {self.check_id} ({len(self.subjects):,}) — enter: open"
            )
            yield table

    def on_mount(self) -> None:
        table = self.query_one("#subjects", RowTable)
        position = self.subjects.index(self.finding) if self.finding in self.subjects else 0
        table.cursor = position
        table.focus()
        self._show_subject(self.finding)

    def _points_text(self) -> str:
        scores = self.index.report.scores
        fix = next((points for cid, points, _ in scores.top_fixes(10**6) if cid == self.check_id), 0.0)
        return points_summary(scores.checks.get(self.check_id), fix)

    def _origin_text(self) -> Text:
        collected = self.index.report.collection.finished_at
        return Text(f"From the {self.label}, collected {collected:%Y-%m-%d %H:%M} UTC: not the report shown.")

    def _show_subject(self, i: int) -> None:
        finding = self.index.findings[i]
        subject = Text()
        subject.append(status_word(finding.status, finding.waived).upper(), "bold")
        subject.append("  ")
        subject.append(safe_text(self.index.subject_text[i], 500))
        if finding.waived and finding.waiver:
            subject.append("\nwaived: ", "bold")
            subject.append(safe_text(waiver_line(finding.waiver), 400))
            if finding.waiver.get("source"):
                subject.append(f"\nby {safe_text(finding.waiver['source'], 200)}")
        self.query_one("#detail-subject", Static).update(subject)
        self.query_one("#detail-message", Static).update(plain(finding.message))
        # Long values fold the YAML way, under their key, at the width the pane has when drawn.
        evidence = to_yaml(finding.evidence) if finding.evidence else "(no evidence recorded)"
        self.query_one("#detail-evidence", Static).update(FoldedLines(evidence))

    @on(RowTable.Highlighted, "#subjects")
    def _highlighted(self, event: RowTable.Highlighted) -> None:
        if self.subjects:
            self.finding = self.subjects[event.index]
            self._show_subject(self.finding)

    @on(RowTable.Selected, "#subjects")
    def _open(self, event: RowTable.Selected) -> None:
        subject = self.index.findings[self.subjects[event.index]].subject
        self.audit_app.open_subject(subject, self.index, self.label)

    def action_waive(self) -> None:
        self.audit_app.waive(self.index, self.finding, self.label)

    def action_probe(self) -> None:
        self.audit_app.probe(self.index, self.finding)

    def index_replaced(self, old: FindingsIndex, new: FindingsIndex) -> None:
        if self.index is not old:
            return
        self.index = new
        self.subjects = new.subjects_of(self.check_id)  # the order follows the new points
        table = self.query_one("#subjects", RowTable)
        position = self.subjects.index(self.finding) if self.finding in self.subjects else 0
        table.set_source(SubjectRows(new, self.subjects), cursor=position)
        for points in self.query("#detail-points").results(Label):
            points.update(self._points_text())
        self._show_subject(self.finding)

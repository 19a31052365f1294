"""Resource view: the collected (redacted) object as highlighted YAML, and the findings naming it."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, ScrollableContainer
from textual.widgets import Static

from k8saudit.inventory import KINDS_BY_KIND
from k8saudit.model import Subject
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import AuditScreen
from screens.findings import status_word
from screens.findings_index import FindingsIndex, IndexedRows
from screens.table import Column, Row, RowTable
from screens.text import title, yaml_view

FINDING_COLUMNS = (
    Column("severity", "Severity", width=9, drop_rank=1),
    Column("status", "Status", width=14),
    Column("check", "Check", width=9),
    Column("message", "Message", ratio=1),
)


class NamingRows(IndexedRows):
    def row(self, position: int) -> Row:
        i = self.rows[position]
        finding = self.index.findings[i]
        severity = self.index.severity[i]
        return Row(
            (
                severity.value if severity else "?",
                status_word(finding.status, finding.waived),
                finding.check_id,
                finding.message,
            ),
            (severity.value if severity else None, "waived" if finding.waived else finding.status.value),
            "waived" if finding.waived else None,
        )


class ResourceScreen(AuditScreen):
    SCOPE = "resource"
    BINDINGS = bindings_for("resource")

    def __init__(self, index: FindingsIndex, subject: Subject, label: str | None = None) -> None:
        super().__init__()
        self.index = index
        self.label = label  # names the report when it is not the one shown ("old snapshot")
        self.subject = subject
        self.naming = index.naming(subject)

    def crumbs(self) -> list[str]:
        return [f"{self.subject} ({self.label})" if self.label else str(self.subject)]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="resource"):
            # Both ways: a long line (an annotation, a command) is scrolled to, never cut or folded.
            with ScrollableContainer(id="resource-yaml", can_focus=True) as pane:
                pane.border_title = title(self.subject)
                yield Static(self._content(), id="resource-object")
            table = RowTable(
                FINDING_COLUMNS,
                NamingRows(self.index, self.naming),
                empty_text="No finding names this object.",
                id="naming",
            )
            table.border_title = f"Findings about it ({len(self.naming):,}) — enter: open"
            yield table

    def _content(self) -> object:
        inventory = self.index.report.inventory
        if self.subject.is_cluster:
            return Text("This finding is about the cluster as a whole: there is no single object to show.")
        obj = inventory.object_for(self.subject)
        kind = KINDS_BY_KIND.get(self.subject.kind)
        if obj is not None and kind is not None:
            # List items carry no apiVersion/kind; put them back so it reads like `kubectl get -o yaml`.
            api_version = inventory.coverage_of(kind.key).api_version or kind.versions[0].api_version
            return yaml_view({"apiVersion": api_version, "kind": kind.kind, **obj})
        if kind is None:
            return Text(f"k8saudit does not collect {safe_text(self.subject.kind, 80)} objects.")
        if not inventory.readable(kind.key):
            return Text(safe_text(inventory.unreadable_reason(kind.key), 500))
        return Text("This object is not in the collected data (it may have been deleted during the scan).")

    def on_mount(self) -> None:
        self.query_one("#resource-yaml").focus()

    @on(RowTable.Selected, "#naming")
    def _open(self, event: RowTable.Selected) -> None:
        self.audit_app.open_finding(self.naming[event.index], self.index, self.label)

    def index_replaced(self, old: FindingsIndex, new: FindingsIndex) -> None:
        if self.index is not old:
            return
        self.index = new
        self.naming = new.naming(self.subject)
        self.query_one("#naming", RowTable).set_source(NamingRows(new, self.naming))

"""Context picker: every context of the kubeconfig, its server and user (never a credential)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from k8saudit.connection import ContextInfo
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import AuditScreen
from screens.fields import TextField
from screens.findings import focus_or_type_slash
from screens.messages import ContextsLoaded
from screens.table import Column, Row, RowTable

# No kubeconfig (or none that can be read, or one without a context): the status line says why
# and where it looked; this, under it, what can be done without one.
NOTHING_TO_SCAN = (
    "Nothing to scan: ctrl+o opens a saved snapshot (or a directory of them); "
    "to look around first, quit (q) and run: k8saudit demo"
)
NO_MATCH = "No context matches."

# In 80 columns the context's name comes first (it had 12 cells: every EKS context read
# "arn:aws:eks…"): the namespace and the cluster's name give way (→ pages through a cut cell).
COLUMNS = (
    Column("name", "Context", ratio=4, min_width=20),
    Column("state", "State", width=12),
    Column("server", "Server", ratio=4, min_width=16),
    Column("cluster", "Cluster", ratio=2, min_width=8, drop_rank=2),
    Column("user", "User", ratio=2, min_width=8, drop_rank=1),
    Column("auth", "Auth", ratio=2, min_width=8),
    Column("namespace", "Namespace", ratio=1, drop_rank=3),
)


class ContextRows:
    def __init__(self, contexts: list[ContextInfo], failures: dict[str, str]) -> None:
        self.contexts = contexts
        self.failures = failures

    def __len__(self) -> int:
        return len(self.contexts)

    def row(self, index: int) -> Row:
        c = self.contexts[index]
        if c.name in self.failures:
            state, tone = "✗ failed", "error"
        elif c.current:
            state, tone = "● current", "current"
        else:
            state, tone = "", None
        return Row((c.name, state, c.server, c.cluster, c.user, c.auth, c.namespace), (None, tone))


class ContextPickerScreen(AuditScreen):
    SCOPE = "picker"
    BINDINGS = bindings_for("picker")

    def __init__(self, kubeconfig: str | None = None) -> None:
        super().__init__()
        self.kubeconfig = kubeconfig
        self.contexts: list[ContextInfo] = []
        self.failures: dict[str, str] = {}
        self.shown: list[ContextInfo] = []
        self.load_error: str | None = None
        self.last_failure: str | None = None

    def crumbs(self) -> list[str]:
        return ["Contexts"]

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Pick the cluster to audit: type to filter, ↑↓ to move, enter to scan. "
            "k8saudit only reads (list and get); ctrl+o opens a saved snapshot instead.",
            id="picker-help",
            classes="hint",
        )
        yield TextField(placeholder="filter contexts…", id="context-filter", compact=True)
        yield Static("Reading the kubeconfig…", id="picker-status", classes="status")
        yield Static(NOTHING_TO_SCAN, id="picker-nothing", classes="status")
        yield RowTable(COLUMNS, empty_text=NO_MATCH, mark_unfocused=True, id="contexts")

    def on_mount(self) -> None:
        self.query_one("#context-filter", Input).cursor_blink = self.audit_app.cursor_blink
        self.set_focus(self.query_one("#context-filter", Input))

    @property
    def table(self) -> RowTable:
        return self.query_one("#contexts", RowTable)

    # -- data from the worker ---------------------------------------------------------------------

    def on_contexts_loaded(self, message: ContextsLoaded) -> None:
        self.contexts = message.contexts
        self.load_error = message.error
        self._show_what_to_do()
        self._refilter(select_current=True)
        self._show_status(self.last_failure)

    def _show_what_to_do(self) -> None:
        """With no context to pick (no kubeconfig, one that cannot be read, one without a
        context), say what can be done instead, not "No context matches": no filter to type in."""
        nothing = self.load_error is not None or not self.contexts
        self.set_class(nothing, "-nothing-to-scan")  # the .tcss shows and hides what it says
        if nothing:
            self.set_focus(self.table)  # keys are keys again (q quits), not typed into the filter
        self.table.empty_text = "No context to scan." if nothing else NO_MATCH
        self.refresh_bindings()  # `/ filter` leaves the footer, or comes back

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "focus_filter" and self.has_class("-nothing-to-scan"))

    def show_failure(self, context: str | None, reason: str) -> None:
        """A scan of `context` could not connect: say why on this screen, stay usable."""
        name = context or next((c.name for c in self.contexts if c.current), "current context")
        self.failures[name] = reason
        self.last_failure = name
        if self.is_mounted:  # a picker pushed just now shows it once its contexts are read
            self._refilter()
            self._show_status(name)

    def _show_status(self, failed: str | None = None) -> None:
        status = self.query_one("#picker-status", Static)
        status.remove_class("error")
        if failed is not None:
            text = Text("✗ cannot scan ", style="bold")
            text.append(safe_text(failed, 120))
            text.append(": ")
            text.append(safe_text(self.failures[failed], 500))
            status.update(text)
            status.add_class("error")
        elif self.load_error:
            status.update(Text("✗ " + safe_text(self.load_error, 500)))
            status.add_class("error")
        else:
            count = len(self.contexts)
            status.update(Text(f"{count} context{'s' if count != 1 else ''} in the kubeconfig"))

    # -- filtering and choosing -------------------------------------------------------------------

    @on(Input.Changed, "#context-filter")
    def _filter_changed(self) -> None:
        self._refilter()

    def _refilter(self, select_current: bool = False) -> None:
        words = self.query_one("#context-filter", Input).value.lower().split()
        selected = self._highlighted()
        self.shown = [
            c
            for c in self.contexts
            if all(w in f"{c.name} {c.cluster} {c.server} {c.user}".lower() for w in words)
        ]
        cursor = 0
        keep = next((c for c in self.contexts if c.current), None) if select_current else selected
        if keep is not None and keep in self.shown:
            cursor = self.shown.index(keep)
        self.table.set_source(ContextRows(self.shown, self.failures), cursor=cursor)

    def _highlighted(self) -> ContextInfo | None:
        if not self.shown:
            return None
        return self.shown[min(self.table.cursor, len(self.shown) - 1)]

    def action_focus_filter(self) -> None:
        focus_or_type_slash(self, self.query_one("#context-filter", Input))

    def action_next(self) -> None:
        self.table.action_cursor_down()

    def action_previous(self) -> None:
        self.table.action_cursor_up()

    @on(Input.Submitted, "#context-filter")
    def _submitted(self) -> None:
        self._scan_highlighted()

    @on(RowTable.Selected, "#contexts")
    def _selected(self) -> None:
        self._scan_highlighted()

    def _scan_highlighted(self) -> None:
        chosen = self._highlighted()
        if chosen is not None:
            self.audit_app.scan_context(chosen.name)

    def go_back(self) -> None:
        if self.focused is self.query_one("#context-filter", Input):
            self.set_focus(self.table)
        elif self.audit_app.report is not None:
            self.app.pop_screen()

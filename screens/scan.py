"""Scan progress: one bar for the whole scan and a live row per resource kind.

The scan itself runs in a worker (`screens.jobs.ScanJob`); this screen only renders the
`ScanProgress` messages it posts. `esc` cancels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from k8saudit.collector import KindFinished, KindStarted, PageReceived, ScanStarted
from k8saudit.inventory import ERROR, FORBIDDEN, NOT_SERVED, OK, Coverage
from k8saudit.kinds import KINDS_BY_KEY
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import AuditScreen
from screens.messages import ScanCancelled, ScanFailed, ScanFinished, ScanProgress
from screens.table import Column, Row, RowTable

WAITING, LISTING = "waiting", "listing"
STATE_WORDS = {
    WAITING: "waiting",
    LISTING: "listing…",
    OK: "ok",
    FORBIDDEN: "forbidden",
    NOT_SERVED: "not served",
    ERROR: "error",
}
# The kind is as wide as the longest kind name listed (`kind_columns`), its API group left out:
# kind names are unique, and where a kind's group matters (forbidden, not served) its detail names
# it. In a narrow terminal (80 columns) the pages and times go first: the detail, where a kind
# that could not be read says why, keeps the room (→ pages through the rest).
COLUMNS = (
    Column("kind", "Kind", width=len("Kind")),
    Column("state", "State", width=max(len(word) for word in STATE_WORDS.values())),
    Column("pages", "Pages", width=6, align="right", drop_rank=2),
    Column("objects", "Objects", width=9, align="right"),
    Column("time", "Time", width=8, align="right", drop_rank=1),
    Column("detail", "Detail", ratio=1, min_width=20),
)
STATE_TONES = {
    WAITING: "dim",
    LISTING: "listing",
    OK: "ok",
    FORBIDDEN: "forbidden",
    NOT_SERVED: "not-served",
    ERROR: "error",
}


def format_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


@dataclass(slots=True)
class KindProgress:
    key: str
    state: str = WAITING
    pages: int = 0
    objects: int = 0
    started: float | None = None
    duration: float | None = None
    message: str = ""


def kind_name(key: str) -> str:
    """The kind listed under `key` (a key the catalog does not know is its own name)."""
    kind = KINDS_BY_KEY.get(key)
    return kind.kind if kind else key


def kind_columns(keys: list[str]) -> tuple[Column, ...]:
    """`COLUMNS` with the kind as wide as the longest kind name of `keys`, or its header."""
    width = max((cell_len(kind_name(key)) for key in keys), default=0)
    return tuple(
        replace(column, width=max(column.width, width)) if column.key == "kind" else column
        for column in COLUMNS
    )


class KindRows:
    def __init__(self, screen: ScanScreen) -> None:
        self.screen = screen

    def __len__(self) -> int:
        return len(self.screen.order)

    def row(self, index: int) -> Row:
        progress = self.screen.kinds[self.screen.order[index]]
        if progress.duration is not None:
            elapsed = format_duration(progress.duration)
        elif progress.started is not None:
            elapsed = format_duration(self.screen.audit_app.monotonic() - progress.started)
        else:
            elapsed = ""
        return Row(
            (
                kind_name(progress.key),
                STATE_WORDS[progress.state],
                str(progress.pages) if progress.pages else "",
                f"{progress.objects:,}" if progress.state != WAITING else "",
                elapsed,
                progress.message,
            ),
            (None, STATE_TONES[progress.state]),
            "dim" if progress.state == NOT_SERVED else None,
        )


class ScanScreen(AuditScreen):
    SCOPE = "scan"
    BINDINGS = bindings_for("scan")

    def __init__(self, context: str | None) -> None:
        super().__init__()
        self.context = context
        self.kinds: dict[str, KindProgress] = {}
        self.order: list[str] = []
        self.finished = 0
        self.started_at = 0.0
        self.phase = "connecting"

    def crumbs(self) -> list[str]:
        return [f"Scan {self.context or 'current context'}"]

    def compose_body(self) -> ComposeResult:
        title = Text("Scanning ", style="bold")
        title.append(safe_text(self.context or "the current context", 120))
        title.append(" — read-only: discovery, then paginated lists of every kind. esc cancels.")
        yield Static(title, id="scan-title")
        with Horizontal(id="scan-bar"):
            yield ProgressBar(total=None, show_eta=False, id="scan-progress")
            yield Static("", id="scan-counts")
            yield Static("", id="scan-elapsed")
        yield Static("Connecting to the API server…", id="scan-phase", classes="status")
        yield RowTable(COLUMNS, KindRows(self), empty_text="Waiting for discovery…", id="scan-kinds")

    def on_mount(self) -> None:
        self.started_at = self.audit_app.monotonic()
        self.set_interval(0.25, self._tick)
        self.query_one("#scan-kinds", RowTable).focus()
        self._tick()

    def _tick(self) -> None:
        elapsed = self.audit_app.monotonic() - self.started_at
        self.query_one("#scan-elapsed", Static).update(f"elapsed {format_duration(elapsed)}")
        if any(k.state == LISTING for k in self.kinds.values()):
            self.query_one("#scan-kinds", RowTable).refresh_rows()

    # -- messages from the scan worker ------------------------------------------------------------

    def on_scan_progress(self, message: ScanProgress) -> None:
        event = message.event
        now = self.audit_app.monotonic()
        if isinstance(event, ScanStarted):
            self.order = list(event.kinds)
            self.kinds = {key: KindProgress(key) for key in self.order}
            self._fit_kind_columns()
            self.query_one("#scan-progress", ProgressBar).update(total=len(self.order), progress=0)
            self._set_phase(f"Listing {len(self.order)} kinds…")
        elif isinstance(event, KindStarted):
            progress = self._kind(event.key)
            progress.state, progress.started = LISTING, now
        elif isinstance(event, PageReceived):
            progress = self._kind(event.key)
            progress.pages, progress.objects = event.page, event.objects
        elif isinstance(event, KindFinished):
            self._finish_kind(event.key, event.coverage, now)
        self._update_counts()
        self.query_one("#scan-kinds", RowTable).refresh_rows()

    def _kind(self, key: str) -> KindProgress:
        if key not in self.kinds:
            self.kinds[key] = KindProgress(key)
            self.order.append(key)
            self._fit_kind_columns()
        return self.kinds[key]

    def _fit_kind_columns(self) -> None:
        self.query_one("#scan-kinds", RowTable).set_columns(kind_columns(self.order))

    def _finish_kind(self, key: str, coverage: Coverage, now: float) -> None:
        progress = self._kind(key)
        progress.state = coverage.state
        progress.pages = coverage.pages
        progress.objects = coverage.count
        progress.duration = coverage.duration_s if progress.started is not None else None
        progress.message = coverage.message if coverage.state != OK else ""
        self.finished += 1
        self.query_one("#scan-progress", ProgressBar).update(progress=self.finished)
        if self.finished >= len(self.order):
            self._set_phase("Every kind listed; running the checks…")

    def _update_counts(self) -> None:
        states = [k.state for k in self.kinds.values()]
        objects = sum(k.objects for k in self.kinds.values())
        parts = [f"{self.finished}/{len(self.order)} kinds", f"{objects:,} objects"]
        for state in (FORBIDDEN, ERROR):
            if states.count(state):
                parts.append(f"{states.count(state)} {STATE_WORDS[state]}")
        self.query_one("#scan-counts", Static).update(" · ".join(parts))

    def _set_phase(self, text: str) -> None:
        self.query_one("#scan-phase", Static).update(text)

    def on_scan_finished(self, message: ScanFinished) -> None:
        self.audit_app.show_report(message.report, context=self.context, index=message.index)

    def on_scan_failed(self, message: ScanFailed) -> None:
        self.audit_app.scan_failed(message.context, message.reason)

    def on_scan_cancelled(self, message: ScanCancelled) -> None:
        if self.is_current:
            self.app.pop_screen()

    # -- keys -------------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        self.audit_app.cancel_scan()
        self.app.pop_screen()
        self.notify("Scan cancelled.", timeout=3)

    def go_back(self) -> None:
        self.action_cancel()

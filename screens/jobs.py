"""The I/O the UI needs, run in Textual worker threads, reporting through typed messages.

A live scan runs on its own asyncio loop in a worker thread rather than on the UI's loop: the
collector parses and redacts every page and the checks then run over the whole inventory, which
for a big cluster is seconds of CPU that must not freeze the screen. `post` is a thread-safe
`MessagePump.post_message`, so nothing here touches a widget.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import orjson
from textual.message import Message

from k8saudit.collector import CollectorSettings, ProgressEvent
from k8saudit.connection import list_contexts
from k8saudit.errors import K8sAuditError
from k8saudit.registry import Config
from k8saudit.releases import ReleaseCalendar
from k8saudit.render import report_dict
from k8saudit.report import Report
from k8saudit.scan import scan_cluster
from k8saudit.snapshot import load, save, write_atomically
from k8saudit.textsafe import safe_text
from screens.findings_index import FindingsIndex
from screens.messages import (
    ContextsLoaded,
    FileWritten,
    ReportLoaded,
    ReportLoadFailed,
    ScanCancelled,
    ScanFailed,
    ScanFinished,
    ScanProgress,
    WriteFailed,
)

Post = Callable[[Message], object]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, K8sAuditError):
        return safe_text(exc.message, 500)
    return f"internal error: {type(exc).__name__}: {safe_text(exc, 300)}"


def read_contexts(kubeconfig: str | None, post: Post) -> None:
    try:
        contexts = list_contexts(kubeconfig)
    except Exception as exc:
        post(ContextsLoaded([], _reason(exc)))
    else:
        post(ContextsLoaded(contexts))


def load_report(
    path: Path,
    post: Post,
    config: Config | None = None,
    calendar: ReleaseCalendar | None = None,
    notes: list[str] | None = None,
    today: date | None = None,
) -> None:
    """`today`: the day waiver expiry is judged against (the app's clock, so tests can fix it)."""
    try:
        report = load(path).report(config=config, calendar=calendar, today=today)
        report.collection.notes.extend(notes or ())
        index = FindingsIndex(report)  # built here, off the UI thread
    except Exception as exc:
        post(ReportLoadFailed(path, _reason(exc)))
    else:
        post(ReportLoaded(report, path, index))


def save_snapshot(report: Report, path: Path, post: Post) -> None:
    try:
        written = save(report, path)
    except Exception as exc:
        post(WriteFailed(path, _reason(exc)))
    else:
        post(FileWritten(written, "snapshot"))


def export_report(report: Report, path: Path, post: Post) -> None:
    """The JSON report (`k8saudit.render.report_dict`), written atomically like a snapshot."""
    try:
        data = orjson.dumps(report_dict(report), option=orjson.OPT_INDENT_2) + b"\n"
        write_atomically(path, data)
    except Exception as exc:
        post(WriteFailed(path, _reason(exc)))
    else:
        post(FileWritten(path, "report"))


class ScanJob:
    """One live scan; `run()` in a worker thread, `cancel()` from the UI thread."""

    def __init__(
        self,
        kubeconfig: str | None,
        context: str | None,
        post: Post,
        settings: CollectorSettings | None = None,
        config: Config | None = None,
        calendar: ReleaseCalendar | None = None,
        notes: list[str] | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.settings = settings
        self.config = config
        self.calendar = calendar
        self.notes = list(notes or [])
        self._post = post
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Report] | None = None
        self._cancelled = False
        self.done = threading.Event()  # set when run() has returned, however it ended

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        finally:
            self.done.set()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._loop is not None and self._task is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._task.cancel)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def _on_event(self, event: ProgressEvent) -> None:
        if not self._cancelled:
            self._post(ScanProgress(event))

    async def _main(self) -> None:
        task = asyncio.ensure_future(
            scan_cluster(
                self.kubeconfig,
                self.context,
                self.settings,
                self._on_event,
                self.config,
                self.calendar,
                list(self.notes),
            )
        )
        with self._lock:
            self._loop, self._task = asyncio.get_running_loop(), task
            if self._cancelled:
                task.cancel()
        try:
            report = await task
            index = None if self._cancelled else FindingsIndex(report)  # this thread, not the UI's
        except asyncio.CancelledError:
            self._post(ScanCancelled())
        except Exception as exc:
            self._post(ScanFailed(self.context, _reason(exc)))
        else:
            if self._cancelled or index is None:
                self._post(ScanCancelled())
            else:
                self._post(ScanFinished(report, index))

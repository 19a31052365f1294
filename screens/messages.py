"""Typed messages from the workers to the screens.

Workers (see `screens.jobs`) do every piece of I/O: reading the kubeconfig, scanning the cluster,
loading and writing files. They never touch a widget; they post one of these messages and the
screen that receives it renders what it says.

None of them bubble: each is posted to the one node that handles it (the app forwards
`ContextsLoaded` to the picker; a bubbling copy would come straight back to the app).
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from k8saudit.collector import ProgressEvent
from k8saudit.connection import ContextInfo
from k8saudit.report import Report
from screens.findings_index import FindingsIndex


class ContextsLoaded(Message, bubble=False):
    """The kubeconfig's contexts, or why they could not be read."""

    def __init__(self, contexts: list[ContextInfo], error: str | None = None) -> None:
        super().__init__()
        self.contexts = contexts
        self.error = error


class ScanProgress(Message, bubble=False):
    """One progress event of the collector (ScanStarted, KindStarted, PageReceived, KindFinished)."""

    def __init__(self, event: ProgressEvent) -> None:
        super().__init__()
        self.event = event


class ScanFinished(Message, bubble=False):
    def __init__(self, report: Report, index: FindingsIndex) -> None:
        super().__init__()
        self.report = report
        self.index = index


class ScanFailed(Message, bubble=False):
    """The cluster could not be reached or authenticated to; `reason` is one line."""

    def __init__(self, context: str | None, reason: str) -> None:
        super().__init__()
        self.context = context
        self.reason = reason


class ScanCancelled(Message, bubble=False):
    pass


class ReportLoaded(Message, bubble=False):
    def __init__(self, report: Report, path: Path, index: FindingsIndex) -> None:
        super().__init__()
        self.report = report
        self.path = path
        self.index = index


class ReportLoadFailed(Message, bubble=False):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__()
        self.path = path
        self.reason = reason


class FileWritten(Message, bubble=False):
    """A snapshot or an export was written."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__()
        self.path = path
        self.what = what


class WriteFailed(Message, bubble=False):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__()
        self.path = path
        self.reason = reason

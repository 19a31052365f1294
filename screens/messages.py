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
from k8saudit.diff import Diff
from k8saudit.fleet import FleetEntry
from k8saudit.probe import ProbeRun
from k8saudit.report import Report, WaiverEffect
from k8saudit.waivers import Waiver
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
    """A snapshot's report; with `rechecking`, its findings as saved, while today's checks run
    over it (`ReportRechecked` or `RecheckFailed` follows)."""

    def __init__(self, report: Report, path: Path, index: FindingsIndex, rechecking: bool = False) -> None:
        super().__init__()
        self.report = report
        self.path = path
        self.index = index
        self.rechecking = rechecking


class ReportRechecked(Message, bubble=False):
    """Today's checks ran over the snapshot whose saved findings `recorded` shows."""

    def __init__(self, recorded: Report, report: Report, index: FindingsIndex) -> None:
        super().__init__()
        self.recorded = recorded
        self.report = report
        self.index = index


class RecheckFailed(Message, bubble=False):
    """Today's checks could not be run over the snapshot `recorded` shows; `reason` is one line."""

    def __init__(self, recorded: Report, reason: str) -> None:
        super().__init__()
        self.recorded = recorded
        self.reason = reason


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


class CompareLoaded(Message, bubble=False):
    """A second snapshot, evaluated like the shown report, and the diff of the two.

    `current_is_new`: the shown report is the newer side (`diff.new`); else it is `diff.old`."""

    def __init__(self, diff: Diff, other_index: FindingsIndex, path: Path, current_is_new: bool) -> None:
        super().__init__()
        self.diff = diff
        self.other_index = other_index
        self.path = path
        self.current_is_new = current_is_new


class CompareFailed(Message, bubble=False):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__()
        self.path = path
        self.reason = reason


class WaiverWritten(Message, bubble=False):
    """A waiver was appended to the waivers file; `waiver` as read back (with its source)."""

    def __init__(self, path: Path, waiver: Waiver) -> None:
        super().__init__()
        self.path = path
        self.waiver = waiver


class WaiverWriteFailed(Message, bubble=False):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__()
        self.path = path
        self.reason = reason


class WaiverEffectWorkedOut(Message, bubble=False):
    """What a waiver covering `scope` would do to the score (the waiver dialog's preview), or
    why it could not be worked out (`effect` None, `reason`)."""

    def __init__(self, scope: str, effect: WaiverEffect | None, reason: str = "") -> None:
        super().__init__()
        self.scope = scope
        self.effect = effect
        self.reason = reason


class ReportsRewaived(Message, bubble=False):
    """The waivers file was applied again: `results[i]` replaces `reports[i]`. `serial` says
    which request this answers (only the latest one is applied)."""

    def __init__(
        self, reports: list[Report], results: list[tuple[Report, FindingsIndex]], serial: int = 0
    ) -> None:
        super().__init__()
        self.reports = reports
        self.results = results
        self.serial = serial


class RewaiveFailed(Message, bubble=False):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class FleetLoaded(Message, bubble=False):
    """One row per snapshot of a fleet directory (a row carries its own load error)."""

    def __init__(self, directory: Path, entries: list[FleetEntry]) -> None:
        super().__init__()
        self.directory = directory
        self.entries = entries


class FleetLoadFailed(Message, bubble=False):
    """The directory itself cannot be read as a fleet (not a directory, no snapshot in it)."""

    def __init__(self, directory: Path, reason: str) -> None:
        super().__init__()
        self.directory = directory
        self.reason = reason


class ProbeFinished(Message, bubble=False):
    """The probe of one finding's addresses answered: `new_report` is `report` with the answers
    attached (`index` over it); `origin` names the pass in the notes; `serial` is the app's report
    serial when the probe started (a probe of a report no longer shown is not applied)."""

    def __init__(
        self,
        report: Report,
        new_report: Report,
        index: FindingsIndex,
        run: ProbeRun,
        origin: str,
        serial: int,
    ) -> None:
        super().__init__()
        self.report = report
        self.new_report = new_report
        self.index = index
        self.run = run
        self.origin = origin
        self.serial = serial


class ProbeFailed(Message, bubble=False):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

"""The I/O the UI needs, run in Textual worker threads, reporting through typed messages: the
kubeconfig, scans, the exposure probe (`ProbeJob`), snapshot load/save, export, waivers.

A live scan runs on its own asyncio loop in a worker thread rather than on the UI's loop: the
collector parses and redacts every page and the checks then run over the whole inventory, which
for a big cluster is seconds of CPU that must not freeze the screen. `post` is a thread-safe
`MessagePump.post_message`, so nothing here touches a widget.

The waivers file is read here too, every time a report is evaluated (`WaiverOptions.load`): the
same file, found the same way, as the CLI reads (`k8saudit.policy.load_policy`), so a waiver
written from the UI or by hand is in effect at the next load, comparison or fleet view.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from textual.message import Message

from k8saudit.collector import CollectorSettings, ProgressEvent
from k8saudit.connection import list_contexts
from k8saudit.diff import diff_reports
from k8saudit.engine import Stopped
from k8saudit.errors import K8sAuditError
from k8saudit.export import chunks
from k8saudit.fleet import load_fleet, nothing_read
from k8saudit.model import Finding
from k8saudit.policy import Policy, append_waiver, load_policy, writable_policy_path
from k8saudit.probe import ProbeRun, ProbeSettings
from k8saudit.registry import Config
from k8saudit.releases import ReleaseCalendar
from k8saudit.report import Report, rewaive, utcnow, waiver_effect, with_probe_results
from k8saudit.scan import probe_finding, scan_cluster, ui_origin
from k8saudit.snapshot import REPORT_FILE, Snapshot, check_save_target, load, save, write_atomically
from k8saudit.textsafe import safe_text
from k8saudit.waivers import Waiver, WaiverPolicy, waiver_for_finding
from screens.findings_index import FindingsIndex
from screens.messages import (
    CompareFailed,
    CompareLoaded,
    ContextsLoaded,
    FileWritten,
    FleetLoaded,
    FleetLoadFailed,
    ProbeFailed,
    ProbeFinished,
    RecheckFailed,
    ReportLoaded,
    ReportLoadFailed,
    ReportRechecked,
    ReportsRewaived,
    RewaiveFailed,
    ScanCancelled,
    ScanFailed,
    ScanFinished,
    ScanProgress,
    WaiverEffectWorkedOut,
    WaiverWriteFailed,
    WaiverWritten,
    WriteFailed,
)

Post = Callable[[Message], object]
T = TypeVar("T")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, K8sAuditError):
        return safe_text(exc.message, 500)
    return f"internal error: {type(exc).__name__}: {safe_text(exc, 300)}"


@dataclass(frozen=True, slots=True)
class WaiverOptions:
    """Which waivers the app applies: the CLI's `--waivers PATH`, `--no-waivers` and
    `--no-annotation-waivers`, the file found with the CLI's precedence (`--waivers`, then
    ./.k8saudit.toml, then $XDG_CONFIG_HOME/k8saudit/waivers.toml). `cwd` and `environ` replace
    the process's own for tests."""

    path: str | None = None
    waivers: bool = True
    annotations: bool = True
    cwd: Path | None = None
    environ: Mapping[str, str] | None = None

    def load(self) -> Policy:
        """Read the policy file in effect (raises PolicyError with one line)."""
        return load_policy(self.path, self.cwd, self.environ)

    def waiver_policy(self, policy: Policy) -> WaiverPolicy:
        return policy.waiver_policy(waivers=self.waivers, annotations=self.annotations)

    def target(self) -> Path:
        """The file a new waiver is written to: the one in effect, else ./.k8saudit.toml."""
        return writable_policy_path(self.path, self.cwd, self.environ)


@dataclass(frozen=True, slots=True)
class Judging:
    """What every report the app shows is judged with, handed whole to each job so that none
    gets only part of it: `config` (tests, embedding; None: the waivers file's settings and
    weights), `calendar` (--refresh-releases; None: the snapshot's or the shipped one), `notes`
    added to each report (why a refresh fell back), `today` for waiver expiry (the app's clock;
    None: today's date) and which waivers apply (`options`)."""

    config: Config | None = None
    calendar: ReleaseCalendar | None = None
    notes: tuple[str, ...] = ()
    today: date | None = None
    options: WaiverOptions = WaiverOptions()

    def policy(self) -> tuple[Config, WaiverPolicy]:
        """The settings and the waivers in effect: reads the waivers file (one-line PolicyError)."""
        policy = self.options.load()
        return self.config or policy.config, self.options.waiver_policy(policy)


def _evaluated(
    snapshot: Snapshot,
    judging: Judging,
    config: Config,
    waivers: WaiverPolicy,
    stop: Callable[[], bool] | None = None,
) -> Report:
    """`snapshot` evaluated with today's checks, `config` and `waivers` (from `judging.policy()`)."""
    return snapshot.report(
        config=config, waivers=waivers, calendar=judging.calendar, today=judging.today, stop=stop
    )


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
    judging: Judging = Judging(),
    cancelled: Callable[[], bool] = lambda: False,
) -> None:
    """Load the snapshot at `path` and post its report, evaluated with the waivers file in effect.

    When its findings are not what today's checks would say (another k8saudit version, other
    settings), running them takes as long as loading (4 s at 100k pods): the findings as saved
    are posted first (`rechecking`), so the report can be read meanwhile, then the re-checked
    report (`ReportRechecked`). `cancelled`: another snapshot was asked for meanwhile, or the app
    quits (asked between checks: quitting does not wait for them)."""
    recorded: Report | None = None
    try:
        config, waivers = judging.policy()
        snapshot = load(path)
        snapshot.collection.notes.extend(judging.notes)  # shared by both reports: extended once
        if not snapshot.is_current(config, judging.calendar):
            recorded = snapshot.report(as_recorded=True, config=config, calendar=judging.calendar)
            post(ReportLoaded(recorded, path, FindingsIndex(recorded), rechecking=True))
            if cancelled():
                return
        report = _evaluated(snapshot, judging, config, waivers, stop=cancelled)
        index = FindingsIndex(report)  # built here, off the UI thread
    except Stopped:
        return  # the app quit or opened another snapshot: nobody waits for this one
    except Exception as exc:
        reason = _reason(exc)
        post(ReportLoadFailed(path, reason) if recorded is None else RecheckFailed(recorded, reason))
    else:
        post(
            ReportLoaded(report, path, index)
            if recorded is None
            else ReportRechecked(recorded, report, index)
        )


def compare_with(current: Report, path: Path, post: Post, judging: Judging = Judging()) -> None:
    """Load the snapshot at `path`, evaluated like the current report, and diff the two: the one
    collected first is the old side (on a tie, the file picked is)."""
    try:
        other = _evaluated(load(path), judging, *judging.policy())
        other_index = FindingsIndex(other)
        current_is_new = other.collection.finished_at <= current.collection.finished_at
        diff = diff_reports(other, current) if current_is_new else diff_reports(current, other)
    except Exception as exc:
        post(CompareFailed(path, _reason(exc)))
    else:
        post(CompareLoaded(diff, other_index, path, current_is_new))


def write_waiver(target: Path, waiver: Waiver, post: Post) -> None:
    """Append `waiver` to the waivers file `target`, keeping its comments and other entries."""
    try:
        written = append_waiver(target, waiver)
    except Exception as exc:
        post(WaiverWriteFailed(target, _reason(exc)))
    else:
        post(WaiverWritten(target, written))


def work_out_waiver_effect(report: Report, finding: Finding, scope: str, today: date, post: Post) -> None:
    """What a waiver of `finding` covering `scope` would do to `report`'s score: the waiver
    dialog's preview, off the UI thread (0.1 s at 100k pods, each time another scope is chosen)."""
    try:
        # Only what it matches counts: its reason, owner and expiry change nothing here.
        waiver = waiver_for_finding(finding, reason="", owner="", expires=today, scope=scope)
        effect = waiver_effect(report, waiver, today)
    except Exception as exc:
        post(WaiverEffectWorkedOut(scope, None, _reason(exc)))
    else:
        post(WaiverEffectWorkedOut(scope, effect))


def rewaive_reports(
    reports: Sequence[Report], post: Post, judging: Judging = Judging(), serial: int = 0
) -> None:
    """Re-read the waivers file and apply it to `reports` (the shown one first, then the other
    sides of open comparisons), re-scored without running the checks again."""
    try:
        config, waivers = judging.policy()
        results = []
        for report in reports:
            fresh = rewaive(report, waivers, judging.today or utcnow().date(), config)
            results.append((fresh, FindingsIndex(fresh)))
    except Exception as exc:
        post(RewaiveFailed(_reason(exc)))
    else:
        post(ReportsRewaived(list(reports), results, serial))


def load_fleet_dir(directory: Path, post: Post, judging: Judging = Judging()) -> None:
    """Every snapshot of a fleet directory, each evaluated as one cluster's report is."""
    try:
        config, waivers = judging.policy()
        entries = load_fleet(
            directory, config=config, waivers=waivers, calendar=judging.calendar, today=judging.today
        )
    except Exception as exc:
        post(FleetLoadFailed(directory, _reason(exc)))
    else:
        post(FleetLoaded(directory, entries))


def save_snapshot(report: Report, path: Path, post: Post) -> None:
    try:
        check_save_target(path)  # as `scan -o`: never over a file k8saudit did not write
        written = save(report, path)
    except Exception as exc:
        post(WriteFailed(path, _reason(exc)))
    else:
        post(FileWritten(written, "snapshot"))


def export_report(report: Report, path: Path, post: Post) -> None:
    """The JSON report (`k8saudit.render.report_dict`), written atomically like a snapshot, as
    it is made (as the CLI writes it)."""
    try:
        check_save_target(path, saved=REPORT_FILE)
        write_atomically(path, chunks(report, "json"))
    except Exception as exc:
        post(WriteFailed(path, _reason(exc)))
    else:
        post(FileWritten(path, "report"))


class LoopJob:
    """Work on its own asyncio loop: `run()` in a worker thread, `cancel()` from the UI thread.

    Quitting must not wait for it (the interpreter joins worker threads at exit), so `cancel()`
    cancels the running task on its loop, whatever it is waiting for."""

    def __init__(self, post: Post) -> None:
        self._post = post
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[object] | None = None
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

    async def _cancellable(self, work: Coroutine[object, object, T]) -> T:
        """Await `work` as a task `cancel()` can stop (raises CancelledError then)."""
        task = asyncio.ensure_future(work)
        with self._lock:
            self._loop, self._task = asyncio.get_running_loop(), task  # type: ignore[assignment]
            if self._cancelled:
                task.cancel()
        return await task

    async def _main(self) -> None:
        raise NotImplementedError


class ScanJob(LoopJob):
    """One live scan."""

    def __init__(
        self,
        kubeconfig: str | None,
        context: str | None,
        post: Post,
        settings: CollectorSettings | None = None,
        judging: Judging = Judging(),
    ) -> None:
        super().__init__(post)
        self.kubeconfig = kubeconfig
        self.context = context
        self.settings = settings
        self.judging = judging

    def _on_event(self, event: ProgressEvent) -> None:
        if not self._cancelled:
            self._post(ScanProgress(event))

    async def _main(self) -> None:
        judging = self.judging
        try:
            config, waivers = judging.policy()
        except Exception as exc:
            self._post(ScanFailed(self.context, _reason(exc)))
            return
        scan = scan_cluster(
            self.kubeconfig,
            self.context,
            self.settings,
            self._on_event,
            config,
            judging.calendar,
            list(judging.notes),
            waivers,
            stop=lambda: self._cancelled,  # the checks run in this thread: a task cancel waits for them
            today=judging.today,
        )
        try:
            report = await self._cancellable(scan)
            # As `k8saudit scan` refuses it: graded, a scan that read nothing would score the
            # cluster on the few checks that need no object.
            unread = nothing_read(report)
            index = None if self._cancelled or unread else FindingsIndex(report)  # not the UI's thread
        except (asyncio.CancelledError, Stopped):
            self._post(ScanCancelled())
        except Exception as exc:
            self._post(ScanFailed(self.context, _reason(exc)))
        else:
            if unread and not self._cancelled:
                self._post(ScanFailed(self.context, safe_text(f"{unread}; no report", 500)))
            elif self._cancelled or index is None:
                self._post(ScanCancelled())
            else:
                self._post(ScanFinished(report, index))


class ProbeJob(LoopJob):
    """The exposure probe of one finding's addresses (`p`, after the user confirmed them).

    Posts `ProbeFinished` with a copy of `report` carrying the answers (the shown report is never
    changed under the UI's feet), or `ProbeFailed`; nothing when cancelled (the app is quitting
    or another report is shown)."""

    def __init__(
        self,
        report: Report,
        finding: Finding,
        settings: ProbeSettings,
        now: datetime,
        serial: int,
        post: Post,
    ) -> None:
        super().__init__(post)
        self.report = report
        self.finding = finding
        self.settings = settings
        self.now = now
        self.serial = serial

    async def _main(self) -> None:
        try:
            probed, run = await self._cancellable(
                probe_finding(self.report, self.finding, self.settings, self.now)
            )
            index = FindingsIndex(probed)  # this thread, not the UI's
        except asyncio.CancelledError:
            return
        except Exception as exc:
            self._post(ProbeFailed(_reason(exc)))
        else:
            if not self._cancelled:
                origin = ui_origin(self.finding)
                self._post(ProbeFinished(self.report, probed, index, run, origin, self.serial))


def apply_probe(report: Report, run: ProbeRun, origin: str, serial: int, post: Post) -> None:
    """Attach a probe's answers to `report` (the one shown now: the waivers were applied again
    while the probe ran, so the report it started from is not on screen any more)."""
    try:
        probed = with_probe_results(report, run, origin)
        index = FindingsIndex(probed)
    except Exception as exc:
        post(ProbeFailed(_reason(exc)))
    else:
        post(ProbeFinished(report, probed, index, run, origin, serial))

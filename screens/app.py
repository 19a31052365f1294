"""The k8saudit terminal app: owns the current report, starts the workers, moves between screens.

`run_app(snapshot=path)` opens a saved snapshot (no cluster); `run_app(kubeconfig=..., context=...)`
scans a live cluster, starting with the given (or current) context and offering the context
picker. Both end up in the same screens: overview → findings → detail → resource.
`run_app(fleet=directory)` starts on the fleet view of a directory of snapshots; `enter` on a
cluster opens its report in those screens, above the fleet.

Every report is evaluated with the waivers file the CLI would use (`jobs.WaiverOptions`). `w`
writes a new waiver there (`screens.waivers.WaiverDialog`); the app then reads the file again and
applies it to every report on screen (`jobs.rewaive_reports`), and each screen swaps its findings
index for the new one (`AuditScreen.index_replaced`): the finding shows as waived and the scores
move without leaving the screen.

`p` on an exposure finding asks (`screens.probe.ProbeDialog`) before probing the addresses it
names in a worker (`jobs.ProbeJob`); the answers come back as a new report swapped in the same way.

A snapshot whose findings today's checks might not repeat (another k8saudit version, other
settings) is shown as saved while `jobs.load_report` re-checks it; the overview swaps today's
report in when it comes (`take_rechecked`), never another screen under the reader's eyes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Keymap
from textual.screen import Screen
from textual.worker import get_current_worker

from k8saudit.collector import CollectorSettings
from k8saudit.errors import SnapshotError
from k8saudit.fleet import FleetEntry
from k8saudit.model import Subject
from k8saudit.probe import OPEN, ProbeRun, ProbeSettings, why_not_probeable
from k8saudit.registry import Config
from k8saudit.releases import ReleaseCalendar
from k8saudit.report import Report, utcnow
from k8saudit.snapshot import context_stem
from k8saudit.textsafe import safe_text
from k8saudit.waivers import Waiver
from screens import jobs
from screens.actions import bindings_for
from screens.base import AuditScreen, TopBar
from screens.detail import DetailScreen
from screens.dialogs import HelpScreen, LoadingScreen, PathDialog, WriteDialog
from screens.diff import DiffScreen
from screens.findings import FindingsScreen
from screens.findings_index import FindingFilter, FindingsIndex
from screens.fleet import FleetScreen, can_open
from screens.messages import (
    CompareFailed,
    CompareLoaded,
    ContextsLoaded,
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
)
from screens.overview import OverviewScreen
from screens.palette import ActionsProvider
from screens.picker import ContextPickerScreen
from screens.probe import ProbeDialog, ProbeRequest, probe_summary, subject_line
from screens.resource import ResourceScreen
from screens.scan import ScanScreen
from screens.waivers import WaiverDialog, WaiverRequest, WaiversScreen, waivable

Clock = Callable[[], datetime]
NEEDS_REPORT = frozenset({"save", "export", "overview", "findings", "diff", "waivers"})


def _report_stem(report: Report) -> str:
    """`CONTEXT-YYYYmmdd-HHMMSS` of the collection: a default file name that says what it holds."""
    return f"{context_stem(report.inventory.cluster.context)}-{report.collection.finished_at:%Y%m%d-%H%M%S}"


def _grade_line(report: Report) -> str:
    overall = report.scores.overall
    return f"grade {report.scores.grade}" + ("" if overall is None else f" {overall:.1f}")


class K8sAuditApp(App[int]):
    CSS_PATH = "k8saudit.tcss"
    TITLE = "k8saudit"
    BINDINGS = bindings_for("app")
    COMMANDS = {ActionsProvider}  # noqa: RUF012 (Textual's class variable)

    def __init__(
        self,
        *,
        snapshot: str | Path | None = None,
        report: Report | None = None,
        kubeconfig: str | None = None,
        context: str | None = None,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        cursor_blink: bool = True,
        debounce_s: float = 0.15,
        settings: CollectorSettings | None = None,
        config: Config | None = None,
        keymap: Keymap | None = None,
        demo: bool = False,
        calendar: ReleaseCalendar | None = None,
        notes: list[str] | None = None,
        waivers: jobs.WaiverOptions | None = None,
        fleet: str | Path | None = None,
        fleet_entries: list[FleetEntry] | None = None,
        probe_settings: ProbeSettings | None = None,
    ) -> None:
        super().__init__()
        self.snapshot_path = Path(snapshot) if snapshot is not None else None
        self.waiver_options = waivers or jobs.WaiverOptions()
        self.fleet_dir = Path(fleet) if fleet is not None else None
        self.initial_fleet = fleet_entries  # already in memory (tests)
        self.last_owner = ""  # prefills the next waiver's owner
        self._rewaive_serial = 0  # the latest request to apply the waivers again
        self._rewaive_pending = False  # that request has not answered yet
        self.probe_settings = probe_settings or ProbeSettings()
        self._probe_job: jobs.ProbeJob | None = None
        # Bumped whenever another report is shown: a probe started on an earlier one is dropped.
        self._report_serial = 0
        self.kubeconfig = kubeconfig
        self.context = context
        self.clock = clock
        self.monotonic = monotonic
        self.cursor_blink = cursor_blink
        self.debounce_s = debounce_s
        self.settings = settings
        self.config = config
        self.demo = demo
        self.calendar = calendar  # replaces the snapshot's or the shipped calendar (--refresh-releases)
        self.notes = list(notes or [])  # added to every report's notes (why a refresh fell back)
        self.initial_report = report
        self.report: Report | None = None
        self.index: FindingsIndex | None = None
        self.report_path: Path | None = None  # where the shown report was loaded from
        # The shown report holds a snapshot's findings as saved while today's checks run over it
        # (jobs.load_report); then today's report, until the overview is shown to swap it in.
        self.rechecking: Report | None = None
        self._rechecked: tuple[Report, FindingsIndex] | None = None
        self.live_context: str | None = None  # the context the shown report was scanned from
        self.startup_error: str | None = None
        self._scan_job: jobs.ScanJob | None = None
        self._initial_load = (self.snapshot_path is not None and report is None) or (
            self.fleet_dir is not None and fleet_entries is None
        )
        self._autostart = False
        if keymap:
            self.set_keymap(keymap)

    @property
    def keymap(self) -> dict[str, str]:
        return dict(self._keymap)

    # -- start ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.fleet_dir is not None:
            if self.initial_fleet is not None:
                self._reset_stack(FleetScreen(self.fleet_dir, self.initial_fleet))
            else:
                self.push_screen(LoadingScreen(f"the snapshots in {self.fleet_dir}"))
                self._load_fleet(self.fleet_dir)
        elif self.initial_report is not None:  # already in memory (tests, embedding)
            # Shown, then not held here: a report replaced later must be freed (see show_report).
            report, self.initial_report = self.initial_report, None
            self.show_report(report, path=self.snapshot_path or Path("(in memory)"))
        elif self.snapshot_path is not None:
            self.push_screen(LoadingScreen(str(self.snapshot_path)))
            self._load_snapshot(self.snapshot_path)
        else:
            self.push_screen(ContextPickerScreen(self.kubeconfig))
            self._read_contexts(autostart=True)

    def origin_label(self) -> str:
        if self.report is None:
            return ""
        if self.live_context is not None:
            return f"live · {self.report.inventory.cluster.server}"
        if self.demo:
            return "demo snapshot (no cluster)"
        where = f"snapshot · {self.report_path}" if self.report_path else "snapshot"
        if self._rechecked is not None:
            return f"today's findings are ready: o shows them · {where}"
        if self.rechecking is not None:
            return f"findings as saved; re-checking… · {where}"
        return where

    # -- workers: every piece of I/O happens in one of these ----------------------------------------

    @work(thread=True, group="contexts", exit_on_error=False)
    def _read_contexts_worker(self) -> None:
        jobs.read_contexts(self.kubeconfig, self.post_message)

    def _read_contexts(self, autostart: bool = False) -> None:
        self._autostart = autostart
        self._read_contexts_worker()

    @property
    def today(self) -> date:
        """The day waiver expiry is judged against (the app's clock, so tests can fix it)."""
        return self.clock().date()

    @property
    def judging(self) -> jobs.Judging:
        """What every report the app evaluates is judged with, as of now: each job gets all of it."""
        return jobs.Judging(self.config, self.calendar, tuple(self.notes), self.today, self.waiver_options)

    @work(thread=True, group="load", exclusive=True, exit_on_error=False)
    def _load_snapshot(self, path: Path) -> None:
        worker = get_current_worker()  # exclusive: opening another snapshot cancels this one
        jobs.load_report(path, self.post_message, self.judging, cancelled=lambda: worker.is_cancelled)

    @work(thread=True, group="compare", exclusive=True, exit_on_error=False)
    def _compare(self, current: Report, path: Path) -> None:
        jobs.compare_with(current, path, self.post_message, self.judging)

    @work(thread=True, group="rewaive", exit_on_error=False)
    def _rewaive(self, reports: list[Report], serial: int) -> None:
        jobs.rewaive_reports(reports, self.post_message, self.judging, serial)

    @work(thread=True, group="fleet", exclusive=True, exit_on_error=False)
    def _load_fleet(self, directory: Path) -> None:
        jobs.load_fleet_dir(directory, self.post_message, self.judging)

    @work(thread=True, group="scan", exclusive=True, exit_on_error=False)
    def _run_scan(self, job: jobs.ScanJob) -> None:
        job.run()

    @work(thread=True, group="probe", exit_on_error=False)
    def _run_probe(self, job: jobs.ProbeJob) -> None:
        job.run()

    @work(thread=True, group="probe", exit_on_error=False)
    def _apply_probe(self, report: Report, run: ProbeRun, origin: str, serial: int) -> None:
        jobs.apply_probe(report, run, origin, serial, self.post_message)

    # -- messages from the workers ------------------------------------------------------------------

    def on_contexts_loaded(self, message: ContextsLoaded) -> None:
        picker = self._find_screen(ContextPickerScreen)
        if picker is not None:
            picker.post_message(ContextsLoaded(message.contexts, message.error))
        if self._autostart:
            self._autostart = False
            current = next((c.name for c in message.contexts if c.current), None)
            if self.context is not None or (current is not None and message.error is None):
                self.scan_context(self.context or current)

    def on_report_loaded(self, message: ReportLoaded) -> None:
        self._initial_load = False
        self.show_report(
            message.report, path=message.path, index=message.index, rechecking=message.rechecking
        )

    def on_report_rechecked(self, message: ReportRechecked) -> None:
        if self.rechecking is not message.recorded:
            return  # another report is shown now
        self._rechecked = (message.report, message.index)
        if isinstance(self.screen, OverviewScreen):
            self.take_rechecked()
        else:  # never swapped under the reader's feet: the overview swaps it in (o)
            self._refresh_top_bars()
            self.notify("Today's findings are ready: o (overview) shows them.", timeout=10)

    def take_rechecked(self) -> None:
        """Show today's report of the snapshot in place of its findings as saved, if it is ready
        (on the overview: nothing above it holds the saved findings)."""
        if self._rechecked is None or self.index is None:
            return
        saved, (report, index) = self.index, self._rechecked
        self.rechecking = self._rechecked = None
        self.report, self.index = report, index
        self._replace_indexes([(saved, index)])
        self._refresh_top_bars()
        now, then = _grade_line(report), _grade_line(saved.report)
        change = f"{now} (as saved: {then})" if now != then else f"{now}, as saved"
        self.notify(
            f"Re-checked with today's checks: {change}; {len(report.findings):,} findings.", timeout=10
        )

    def on_recheck_failed(self, message: RecheckFailed) -> None:
        if self.rechecking is not message.recorded:
            return  # another report is shown now
        self.rechecking = None
        self._refresh_top_bars()
        overview = self._find_screen(OverviewScreen)
        if isinstance(overview, OverviewScreen):
            overview.show_identity()
        self.notify(
            f"{message.reason}. The findings are shown as saved.",
            title="Not re-checked with today's checks",
            severity="error",
            markup=False,
        )

    def _refresh_top_bars(self) -> None:
        for screen in self.screen_stack:
            for bar in screen.query(TopBar):
                bar.show()

    def _still_rechecking(self) -> bool:
        """True, with a word to the user, when the shown findings are the saved ones of a
        snapshot being re-checked: a waiver, probe or comparison of them would be lost or wrong."""
        if self.rechecking is None:
            return False
        if self._rechecked is not None:
            self.notify(
                "Today's findings are ready: o (overview) shows them; then try again.", severity="warning"
            )
        else:
            self.notify(
                "Today's checks are still running over this snapshot (these are its findings as saved): "
                "try again in a moment.",
                severity="warning",
            )
        return True

    def on_report_load_failed(self, message: ReportLoadFailed) -> None:
        if self._initial_load:
            self.startup_error = message.reason
            self.exit(1, return_code=1)
            return
        if isinstance(self.screen, LoadingScreen):
            self.pop_screen()  # back to where the snapshot was asked for (the fleet)
        self.notify(message.reason, title="Cannot open the snapshot", severity="error", markup=False)

    def on_compare_loaded(self, message: CompareLoaded) -> None:
        current = self.index
        if current is None or all(current.report is not r for r in (message.diff.old, message.diff.new)):
            return  # another report is shown now: this comparison is stale
        other = message.other_index
        old, new = (other, current) if message.current_is_new else (current, other)
        self.push_screen(DiffScreen(message.diff, old, new, message.path, message.current_is_new))

    def on_compare_failed(self, message: CompareFailed) -> None:
        self.notify(message.reason, title="Cannot compare", severity="error", markup=False)

    def on_reports_rewaived(self, message: ReportsRewaived) -> None:
        if message.serial != self._rewaive_serial:
            return  # a second waiver was written meanwhile: its request (with both) comes next
        self._rewaive_pending = False
        replaced: list[tuple[FindingsIndex, FindingsIndex]] = []
        for old_report, (report, index) in zip(message.reports, message.results, strict=True):
            old_index = self._index_of(old_report)
            if old_index is None:
                continue  # no longer on screen
            replaced.append((old_index, index))
            if old_index is self.index:
                self.report, self.index = report, index
        self._replace_indexes(replaced)

    def _replace_indexes(self, replaced: list[tuple[FindingsIndex, FindingsIndex]]) -> None:
        """Every screen swaps the old indexes it shows for the new ones (same findings, same order)."""
        for screen in self.screen_stack:
            if isinstance(screen, AuditScreen):
                for old_index, index in replaced:
                    screen.index_replaced(old_index, index)

    def on_rewaive_failed(self, message: RewaiveFailed) -> None:
        self._rewaive_pending = False
        self.notify(message.reason, title="Waivers not applied again", severity="error", markup=False)

    def on_fleet_loaded(self, message: FleetLoaded) -> None:
        self._initial_load = False
        fleet = self._find_screen(FleetScreen)
        if isinstance(fleet, FleetScreen) and fleet.directory == message.directory:
            fleet.update_entries(message.entries)
            return
        self.workers.cancel_group(self, "load")  # a snapshot being re-checked
        self.report = self.index = None
        self._another_report()
        self.fleet_dir = message.directory
        self._reset_stack(FleetScreen(message.directory, message.entries))

    def on_fleet_load_failed(self, message: FleetLoadFailed) -> None:
        if self._initial_load:
            self.startup_error = message.reason
            self.exit(1, return_code=1)
            return
        fleet = self._find_screen(FleetScreen)
        if isinstance(fleet, FleetScreen):
            fleet.set_loading(False)
        if isinstance(self.screen, LoadingScreen):
            self.pop_screen()
        self.notify(message.reason, title="Cannot open the fleet", severity="error", markup=False)

    # -- scans ------------------------------------------------------------------------------------

    def scan_context(self, context: str | None) -> None:
        """Scan `context` (None: the kubeconfig's current one) with a progress screen."""
        self.cancel_scan()
        screen = ScanScreen(context)
        self.push_screen(screen)
        self._scan_job = jobs.ScanJob(
            self.kubeconfig,
            context,
            screen.post_message,
            self.settings,
            self.judging,
        )
        self._run_scan(self._scan_job)

    def cancel_scan(self) -> None:
        if self._scan_job is not None:
            self._scan_job.cancel()
            self._scan_job = None

    def scan_failed(self, context: str | None, reason: str) -> None:
        """Back to the context picker, which says why `context` could not be scanned."""
        self._scan_job = None
        if self._pop_to(ScanScreen):  # also closes a help or palette opened over it
            self.pop_screen()
        picker = self._find_screen(ContextPickerScreen)
        if picker is None:
            picker = ContextPickerScreen(self.kubeconfig)
            self.push_screen(picker)
            self._read_contexts()
        picker.show_failure(context, reason)

    # -- the shown report -------------------------------------------------------------------------

    def show_report(
        self,
        report: Report,
        *,
        context: str | None = None,
        path: Path | None = None,
        index: FindingsIndex | None = None,
        rechecking: bool = False,
    ) -> None:
        """Make `report` the current one and show its overview (the screen stack starts over);
        `rechecking`: it holds a snapshot's findings as saved, today's report follows."""
        self._scan_job = None
        self._another_report()
        self.rechecking = report if rechecking else None
        self.report = report
        self.index = index or FindingsIndex(report)
        self.report_path = path
        self.demo = self.demo and path == self.snapshot_path  # "demo" names the demo file only
        self.live_context = (report.inventory.cluster.context or context or "") if path is None else None
        self._replace_stack(OverviewScreen(report, self.index))

    def _replace_stack(self, screen: Screen[None]) -> None:
        """Show `screen` as the root of a report: above the fleet view if there is one."""
        fleet = self._find_screen(FleetScreen)
        keep = self.screen_stack.index(fleet) + 1 if fleet is not None else 1  # [0]: Textual's default
        while len(self.screen_stack) > keep + 1:
            self.pop_screen()
        if len(self.screen_stack) == keep + 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _reset_stack(self, screen: Screen[None]) -> None:
        """Start over with `screen` as the only one (a fleet view)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _index_of(self, report: Report) -> FindingsIndex | None:
        """The findings index on screen for `report` (the shown one or a comparison's other side)."""
        if self.index is not None and self.index.report is report:
            return self.index
        for screen in self.screen_stack:
            if isinstance(screen, DiffScreen):
                for index in (screen.old_index, screen.new_index):
                    if index.report is report:
                        return index
        return None

    def _find_screen(self, kind: type[Screen[None]]) -> Screen[None] | None:  # type: ignore[type-arg]
        for screen in reversed(self.screen_stack):
            if isinstance(screen, kind):
                return screen
        return None

    def _pop_to(self, kind: type[Screen[None]]) -> bool:
        if self._find_screen(kind) is None:
            return False
        while not isinstance(self.screen, kind):
            self.pop_screen()
        return True

    def open_findings(self, flt: FindingFilter | None = None) -> None:
        if self.index is None:
            return
        if self._pop_to(FindingsScreen):
            if flt is not None:
                self.screen.set_filter(flt)  # type: ignore[attr-defined]
            return
        self.push_screen(FindingsScreen(self.index, flt))

    def open_finding(
        self, finding: int, index: FindingsIndex | None = None, label: str | None = None
    ) -> None:
        """The detail of `index.findings[finding]` (default: the shown report); `label` names the
        report when it is not the shown one ("old snapshot")."""
        index = index or self.index
        if index is not None:
            self.push_screen(DetailScreen(index, finding, label))

    def open_check(self, check_id: str) -> None:
        if self.index is not None and self.index.by_check.get(check_id):
            self.open_finding(self.index.subjects_of(check_id)[0])

    def open_subject(
        self, subject: Subject, index: FindingsIndex | None = None, label: str | None = None
    ) -> None:
        index = index or self.index
        if index is not None:
            self.push_screen(ResourceScreen(index, subject, label))

    # -- fleet ------------------------------------------------------------------------------------

    def open_fleet(self, directory: Path) -> None:
        """Open a directory of snapshots. What is shown stays until they are read: a directory
        that holds none is one notice, as a file that is no snapshot is (`on_fleet_load_failed`)."""
        self.notify(f"Opening the snapshots in {safe_text(directory, 300)}…", markup=False, timeout=2)
        self._load_fleet(directory)

    def reload_fleet(self) -> None:
        fleet = self._find_screen(FleetScreen)
        if isinstance(fleet, FleetScreen):
            fleet.set_loading(True)
            self._load_fleet(fleet.directory)

    def open_fleet_entry(self, entry: FleetEntry) -> None:
        if not can_open(entry) or entry.snapshot is None:
            reason = entry.error or "no snapshot"
            self.notify(
                f"{safe_text(entry.context, 80)} has no report: {safe_text(reason, 300)}",
                severity="warning",
                markup=False,
            )
            return
        self.push_screen(LoadingScreen(str(entry.snapshot)))
        self._load_snapshot(entry.snapshot)

    def back_to_fleet(self) -> bool:
        """From a cluster's overview back to the fleet view; False when there is none."""
        if self._find_screen(FleetScreen) is None:
            return False
        self._pop_to(FleetScreen)
        self.workers.cancel_group(self, "load")  # a snapshot being re-checked
        self.report = self.index = None
        self.report_path = None
        self._another_report()
        return True

    # -- waivers ----------------------------------------------------------------------------------

    def waiver_target(self) -> Path:
        return self.waiver_options.target()

    def waive(self, index: FindingsIndex, position: int, label: str | None = None) -> None:
        """`w`: ask for a waiver of `index.findings[position]` and write it to the waivers file;
        `label` names the finding's report when it is not the shown one ("old snapshot")."""
        if self._still_rechecking():
            return
        finding = index.findings[position]
        problem = waivable(finding)
        if problem is None and not self.waiver_options.waivers:
            problem = "Waivers are off (--no-waivers): a new one would not apply."
        if problem is None and index.report.as_recorded:
            problem = "This report is shown as recorded: waivers are not applied to it."
        if problem is not None:
            self.notify(problem, title="Not waived", severity="warning", markup=False)
            return
        request = WaiverRequest(
            finding=finding,
            meta=index.report.checks.get(finding.check_id),
            target=self.waiver_target(),
            today=self.today,
            owner=self.last_owner,
        )

        def written(waiver: Waiver | None) -> None:
            if waiver is not None:
                self.waiver_written(waiver)

        # The score it changes is worked out on the finding's own report, a comparison's other
        # side too: the shown one may not even have that finding (it was resolved since).
        self.push_screen(WaiverDialog(request, index.report, label), written)

    def waiver_written(self, waiver: Waiver) -> None:
        self.last_owner = waiver.owner
        self.notify(f"Waiver written: {safe_text(waiver.source, 300)}", markup=False)
        reports = [i.report for i in self._indexes_on_screen()]
        if reports:
            self._rewaive_again(reports)
        if self.fleet_dir is not None and self._find_screen(FleetScreen) is not None:
            self.reload_fleet()  # a waiver can apply to the other clusters too

    def _rewaive_again(self, reports: list[Report]) -> None:
        self._rewaive_serial += 1
        self._rewaive_pending = True
        self._rewaive(reports, self._rewaive_serial)

    # -- the exposure probe -------------------------------------------------------------------------

    def probe(self, index: FindingsIndex, position: int) -> None:
        """`p`: show which addresses `index.findings[position]` would have probed; probe them in a
        worker once confirmed. Never without the dialog."""
        if self._still_rechecking():
            return
        finding = index.findings[position]
        report = self.report
        if report is None or index.report is not report:
            self.notify("Probe from the report shown, not a comparison's side.", severity="warning")
            return
        problem = why_not_probeable(finding)
        if problem is None and self.demo:  # its load balancer names look real and may resolve
            problem = "the demo cluster's addresses are made up"
        if problem is not None:
            self.notify(f"Nothing to probe: {problem}.", severity="warning")
            return
        if self._probe_job is not None:
            self.notify("A probe is running: its answers come first.", severity="warning")
            return
        serial = self._report_serial

        def confirmed(go: bool | None) -> None:
            shown = self.report
            if go and shown is not None and serial == self._report_serial and self._probe_job is None:
                # the shown report may be a re-waived copy by now: same findings, same positions
                self._start_probe(shown, position)

        request = ProbeRequest.for_finding(finding, self.probe_settings, report.collection.probe)
        self.push_screen(ProbeDialog(request), confirmed)

    def _start_probe(self, report: Report, position: int) -> None:
        finding = report.findings[position]
        job = jobs.ProbeJob(
            report, finding, self.probe_settings, self.clock(), self._report_serial, self.post_message
        )
        self._probe_job = job
        self.notify(f"Probing {subject_line(finding)}…", markup=False, timeout=3)
        self._run_probe(job)

    def cancel_probe(self) -> None:
        if self._probe_job is not None:
            self._probe_job.cancel()
            self._probe_job = None

    def _another_report(self) -> None:
        """Another report is shown (or none): a probe of the previous one is stopped and dropped;
        a re-check of it is forgotten (its answer no longer matches `rechecking`)."""
        self._report_serial += 1
        self.cancel_probe()
        self.rechecking = self._rechecked = None

    def on_probe_finished(self, message: ProbeFinished) -> None:
        if message.serial != self._report_serial or self.report is None or self.index is None:
            return  # another report is shown: these answers were for the one before
        if message.report is not self.report:
            # The waivers were applied again while the probe ran: attach its answers to the
            # report shown now (the same findings in the same order).
            self._apply_probe(self.report, message.run, message.origin, message.serial)
            return
        self._probe_job = None
        old = self.index
        self.report, self.index = message.new_report, message.index
        self._replace_indexes([(old, message.index)])
        if self._rewaive_pending:  # its answer is for the report replaced just now: ask again
            self._rewaive_again([i.report for i in self._indexes_on_screen()])
        opened = any(r.access == OPEN for r in message.run.results)  # answers a stranger: say it loudly
        severity = "warning" if opened else "information"
        self.notify(probe_summary(message.run.results), severity=severity, markup=False, timeout=10)

    def on_probe_failed(self, message: ProbeFailed) -> None:
        self._probe_job = None
        self.notify(message.reason, title="Probe failed", severity="error", markup=False)

    def _indexes_on_screen(self) -> list[FindingsIndex]:
        """The shown report's index first, then the other sides of open comparisons."""
        found: list[FindingsIndex] = [self.index] if self.index is not None else []
        for screen in self.screen_stack:
            if isinstance(screen, DiffScreen):
                for index in (screen.old_index, screen.new_index):
                    if all(index is not seen for seen in found):
                        found.append(index)
        return found

    # -- actions (rows of screens.actions with scope "app") ----------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NEEDS_REPORT:
            return self.report is not None
        if isinstance(self.screen, ScanScreen) and action in ("rescan", "contexts", "open_snapshot"):
            return False  # one scan at a time: esc cancels this one first
        if action == "rescan":  # on a snapshot too: it says why there is nothing to rescan
            return self.report is not None
        return True

    async def action_quit(self) -> None:
        # A scan runs in an executor thread, which the interpreter waits for at exit:
        # cancel it so that quitting mid-scan is immediate. The same for a probe.
        self.cancel_scan()
        self.cancel_probe()
        self.exit()

    def on_unmount(self) -> None:
        self.cancel_scan()
        self.cancel_probe()

    def action_back(self) -> None:
        screen = self.screen
        if isinstance(screen, AuditScreen):
            screen.go_back()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_diff(self) -> None:
        report = self.report
        if report is None or self._still_rechecking():
            return
        folder = self.report_path.parent if self.report_path and self.report_path.is_file() else None
        initial = f"{folder}/" if folder and str(folder) != "." else ""

        def compare(path: Path | None) -> None:
            if path is not None and self.report is report:
                self.notify(f"Comparing with {safe_text(path, 300)}…", markup=False, timeout=2)
                self._compare(report, path)

        self.push_screen(
            PathDialog(
                "Compare with another snapshot (the older one is OLD)", initial, "compare", must_exist=True
            ),
            compare,
        )

    def action_waivers(self) -> None:
        if self.report is None or self.index is None:
            return
        if not self._pop_to(WaiversScreen):
            self.push_screen(WaiversScreen(self.report, self.index))

    def action_overview(self) -> None:
        if self.report is not None and self.index is not None and not self._pop_to(OverviewScreen):
            self._replace_stack(OverviewScreen(self.report, self.index))

    def action_findings(self) -> None:
        self.open_findings()

    def action_save(self) -> None:
        report = self.report
        if report is None:
            return
        name = f"k8saudit-{_report_stem(report)}.json.gz"
        write = partial(jobs.save_snapshot, report)
        dialog = WriteDialog("Save the snapshot (.json or .json.gz)", name, "save", write)
        self.push_screen(dialog, partial(self._written, "Snapshot saved"))

    def action_export(self) -> None:
        report = self.report
        if report is None:
            return
        name = f"k8saudit-report-{_report_stem(report)}.json"
        write = partial(jobs.export_report, report)
        dialog = WriteDialog("Export the JSON report", name, "export", write)
        self.push_screen(dialog, partial(self._written, "JSON report written"))

    def _written(self, what: str, path: Path | None) -> None:
        """A save or export dialog closed: `path` was written (None: cancelled). Its failures
        were said in the dialog, which stayed open."""
        if path is not None:
            self.notify(f"{what} to {safe_text(path, 300)}", markup=False)

    def action_open_snapshot(self) -> None:
        def open_path(path: Path | None) -> None:
            if path is None:
                return
            if path.is_dir():
                self.open_fleet(path)
                return
            self.notify(f"Opening {safe_text(path, 300)}…", markup=False, timeout=2)
            self._load_snapshot(path)

        dialog = PathDialog(
            "Open a snapshot file, or a directory of them (fleet)",
            "",
            "open",
            must_exist=True,
            allow_dir=True,
        )
        self.push_screen(dialog, open_path)

    def action_rescan(self) -> None:
        if self.live_context is None:
            self.notify("No cluster to rescan: this report comes from a snapshot (c picks a context).")
            return
        self.scan_context(self.live_context)

    def action_contexts(self) -> None:
        if not self._pop_to(ContextPickerScreen):
            self.push_screen(ContextPickerScreen(self.kubeconfig))
            self._read_contexts()


def run_app(
    *,
    snapshot: str | Path | None = None,
    kubeconfig: str | None = None,
    context: str | None = None,
    demo: bool = False,
    calendar: ReleaseCalendar | None = None,
    notes: list[str] | None = None,
    waivers: jobs.WaiverOptions | None = None,
    fleet: str | Path | None = None,
) -> int:
    """Run the TUI until the user quits; a snapshot (or fleet directory) that cannot be opened
    raises SnapshotError."""
    app = K8sAuditApp(
        snapshot=snapshot,
        kubeconfig=kubeconfig,
        context=context,
        demo=demo,
        calendar=calendar,
        notes=notes,
        waivers=waivers,
        fleet=fleet,
    )
    code = app.run()
    if app.startup_error:
        raise SnapshotError(app.startup_error)
    return code if isinstance(code, int) else 0


__all__ = ["K8sAuditApp", "run_app"]

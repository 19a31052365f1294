"""One live scan, start to report: connect, collect, evaluate. Shared by the CLI and the TUI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from k8saudit.collector import Collector, CollectorSettings, ProgressCallback
from k8saudit.connection import connect
from k8saudit.model import Finding
from k8saudit.probe import CLI_ORIGIN, ProbeRun, ProbeSettings, probe_findings, run_probe
from k8saudit.registry import Config
from k8saudit.releases import ReleaseCalendar
from k8saudit.report import Report, evaluate, record_probe, with_probe_results
from k8saudit.textsafe import safe_text
from k8saudit.waivers import WaiverPolicy


async def scan_cluster(
    kubeconfig: str | None,
    context: str | None,
    settings: CollectorSettings | None = None,
    on_event: ProgressCallback | None = None,
    config: Config | None = None,
    calendar: ReleaseCalendar | None = None,
    notes: list[str] | None = None,
    waivers: WaiverPolicy | None = None,
    stop: Callable[[], bool] | None = None,
    today: date | None = None,
) -> Report:
    """`calendar` replaces the shipped release calendar (`--refresh-releases`); `notes` are added
    to the collection's notes (e.g. why a refresh fell back to the shipped calendar); `stop`
    ends the checks early (see `evaluate`); `today` is the day waiver expiry is judged against
    (default: today's date)."""
    connection = connect(kubeconfig, context)
    inventory, collection = await Collector(connection, settings, on_event).collect()
    collection.notes.extend(notes or ())
    return evaluate(inventory, collection, config, calendar, waivers=waivers, today=today, stop=stop)


async def probe_report(report: Report, settings: ProbeSettings | None = None) -> ProbeRun:
    """The opt-in exposure probe (`scan --probe`) over a live report: probes the addresses its
    exposure findings name, attaches what it saw, and records the run (saved with the snapshot,
    named in the report's notes)."""
    run = await probe_findings(report.findings, settings)
    record_probe(report.collection, run, CLI_ORIGIN)
    return run


async def probe_finding(
    report: Report, finding: Finding, settings: ProbeSettings | None = None, now: datetime | None = None
) -> tuple[Report, ProbeRun]:
    """The UI's probe of one finding (`p`): the addresses `finding` names, probed like
    `scan --probe` probes them, and a copy of `report` with the results on every finding that
    names one of them, the pass kept with the collection and named in the notes."""
    run = await run_probe([finding], settings, now)
    return with_probe_results(report, run, ui_origin(finding)), run


def ui_origin(finding: Finding) -> str:
    """How the report's note names a probe started from the UI."""
    return safe_text(f"UI, p on {finding.check_id} {finding.subject}", 200)

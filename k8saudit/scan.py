"""One live scan, start to report: connect, collect, evaluate. Shared by the CLI and the TUI."""

from __future__ import annotations

from k8saudit.collector import Collector, CollectorSettings, ProgressCallback
from k8saudit.connection import connect
from k8saudit.probe import ProbeRun, ProbeSettings, probe_findings
from k8saudit.registry import Config
from k8saudit.releases import ReleaseCalendar
from k8saudit.report import Report, evaluate
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
) -> Report:
    """`calendar` replaces the shipped release calendar (`--refresh-releases`); `notes` are added
    to the collection's notes (e.g. why a refresh fell back to the shipped calendar)."""
    connection = connect(kubeconfig, context)
    inventory, collection = await Collector(connection, settings, on_event).collect()
    collection.notes.extend(notes or ())
    return evaluate(inventory, collection, config, calendar, waivers=waivers)


async def probe_report(report: Report, settings: ProbeSettings | None = None) -> ProbeRun:
    """The opt-in exposure probe (`scan --probe`) over a live report: probes the addresses its
    exposure findings name, attaches what it saw, and records the run (saved with the snapshot,
    named in the report's notes)."""
    run = await probe_findings(report.findings, settings)
    report.collection.probe = run
    report.collection.notes.append(run.note())
    return run

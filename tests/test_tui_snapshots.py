"""SVG snapshots of the main screens at 160x48, with a fixed clock and no cursor blink.

The report is `tests.tui_support.sample_report()` (synthetic check metadata), so these pictures
change only when the screens change. Update them with `pytest --snapshot-update` and look at the
result (`snapshot_report.html`) before committing.
"""

from __future__ import annotations

from k8saudit.model import Finding, Status, Subject
from k8saudit.probe import PROBE_TARGETS, ProbeSettings
from tests.tui_support import SIZE, build_report, make_app, sample_findings, sample_inventory, sample_report


def test_overview(snap_compare) -> None:
    assert snap_compare(make_app(report=sample_report()), terminal_size=SIZE)


def test_findings(snap_compare) -> None:
    assert snap_compare(make_app(report=sample_report()), press=["f"], terminal_size=SIZE)


def test_findings_filtered(snap_compare) -> None:
    app = make_app(report=sample_report(), debounce_s=0.0)
    assert snap_compare(app, press=["f", "slash", *"replica", "enter"], terminal_size=SIZE)


def test_detail(snap_compare) -> None:
    assert snap_compare(make_app(report=sample_report()), press=["f", "enter"], terminal_size=SIZE)


def test_resource(snap_compare) -> None:
    assert snap_compare(make_app(report=sample_report()), press=["f", "enter", "enter"], terminal_size=SIZE)


def test_help(snap_compare) -> None:
    assert snap_compare(make_app(report=sample_report()), press=["question_mark"], terminal_size=SIZE)


def test_probe_dialog(snap_compare) -> None:
    """`p` on an exposure finding: every address that will be contacted (here capped at 2), and
    what is and is not sent. Nothing is contacted: the dialog is only shown."""
    findings = [
        *sample_findings(),
        Finding(
            "EXP-101",
            Status.FAIL,
            Subject("Service", "ops", "dashboard"),
            "exposes Kubernetes Dashboard to anyone who can reach it",
            {
                PROBE_TARGETS: [
                    {"url": f"http://203.0.113.{i}:30080/", "interface": "Kubernetes Dashboard"}
                    for i in (7, 8, 9)
                ]
            },
        ),
    ]
    report = build_report(sample_inventory(), findings)
    app = make_app(report=report, probe_settings=ProbeSettings(limit=2))
    assert snap_compare(app, press=["f", "slash", *"dashboard", "enter", "p"], terminal_size=SIZE)

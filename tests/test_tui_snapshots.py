"""SVG snapshots of the main screens at 160x48, with a fixed clock and no cursor blink.

The report is `tests.tui_support.sample_report()` (synthetic check metadata), so these pictures
change only when the screens change. Update them with `pytest --snapshot-update` and look at the
result (`snapshot_report.html`) before committing.
"""

from __future__ import annotations

from tests.tui_support import SIZE, make_app, sample_report


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

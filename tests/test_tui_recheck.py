"""A snapshot saved by another k8saudit version (or with other settings) opens at once with its
findings as saved, while today's checks run over it in the background; the overview then swaps
in today's findings, never a screen the reader is looking at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from k8saudit import report as report_module
from k8saudit.snapshot import load, save
from screens import jobs
from screens.app import K8sAuditApp
from screens.dialogs import PathDialog
from screens.findings import FindingsScreen
from screens.messages import ReportLoaded
from screens.overview import OverviewScreen
from tests.demo import build_report
from tests.tui_support import SIZE, make_app, screen_text, wait_for


class HeldChecks:
    """Today's checks in the app's workers, held until `release()`; `fail` makes them raise
    instead. The test's own evaluations (on the main thread) run as usual."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.runs = 0
        self.fail = False

    def release(self) -> None:
        self.go.set()


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldChecks]:
    holder = HeldChecks()
    original = report_module.run_checks

    def run_checks(*args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            return original(*args, **kwargs)
        holder.runs += 1
        assert holder.go.wait(30), "the test never released the checks"
        if holder.fail:
            raise RuntimeError("the checks broke")
        return original(*args, **kwargs)

    monkeypatch.setattr(report_module, "run_checks", run_checks)
    yield holder
    holder.release()  # never leave a worker thread waiting


def saved_by(tmp_path: Path, fingerprint: str, name: str = "other.json") -> Path:
    report = build_report()
    report.fingerprint = fingerprint
    return save(report, tmp_path / name)


def notices(app: K8sAuditApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_saved_findings_first_then_todays(tmp_path: Path, held: HeldChecks) -> None:
    path = saved_by(tmp_path, "another k8saudit version")
    recorded = len(load(path).findings)
    app = make_app(snapshot=path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        saved = app.report
        assert saved is not None and saved.as_recorded and app.rechecking is saved
        assert len(saved.findings) == recorded
        text = screen_text(app)
        assert "findings as saved; re-checking…" in text  # the top bar
        assert "as saved; re-checking with today's checks…" in text  # the overview's identity
        await wait_for(pilot, lambda: held.runs == 1, "the re-check to start")

        held.release()
        await wait_for(pilot, lambda: app.rechecking is None, "today's findings")
        today = app.report
        assert today is not None and not today.as_recorded
        assert report_module.is_current(today.fingerprint, calendar=today.calendar)
        assert isinstance(app.screen, OverviewScreen) and app.screen.report is today
        assert app.index is not None and app.index.report is today
        text = screen_text(app)
        assert "re-checking" not in text and "as recorded" not in text
        assert any(n.startswith("Re-checked with today's checks: grade") for n in notices(app))


async def test_todays_findings_wait_for_the_overview(tmp_path: Path, held: HeldChecks) -> None:
    app = make_app(snapshot=saved_by(tmp_path, "another k8saudit version"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        saved = app.report
        await pilot.press("f")
        findings = app.screen
        assert isinstance(findings, FindingsScreen)

        held.release()
        await wait_for(pilot, lambda: "today's findings are ready: o shows them" in screen_text(app), "ready")
        assert app.screen is findings and findings.index.report is saved  # nothing moved under the reader
        assert app.report is saved and app.rechecking is saved
        assert "Today's findings are ready: o (overview) shows them." in notices(app)

        await pilot.press("o")
        await wait_for(pilot, lambda: app.rechecking is None, "the swap on the overview")
        assert isinstance(app.screen, OverviewScreen)
        assert app.report is not saved and app.report is not None and not app.report.as_recorded
        assert len(app.screen_stack) == 2
        await pilot.press("f")
        assert isinstance(app.screen, FindingsScreen) and app.screen.index.report is app.report


@pytest.mark.parametrize("key", ["w", "d"])
async def test_no_waiver_or_comparison_of_the_saved_findings(
    tmp_path: Path, held: HeldChecks, key: str
) -> None:
    """A waiver or a comparison made on them would be lost, or compare two different codes."""
    app = make_app(snapshot=saved_by(tmp_path, "another k8saudit version"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        await pilot.press("f")
        await pilot.press(key)
        assert isinstance(app.screen, FindingsScreen)  # no dialog opened
        assert any("still running over this snapshot" in n for n in notices(app))


async def test_a_failed_recheck_keeps_the_saved_findings(tmp_path: Path, held: HeldChecks) -> None:
    app = make_app(snapshot=saved_by(tmp_path, "another k8saudit version"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        saved = app.report
        held.fail = True
        held.release()
        await wait_for(pilot, lambda: app.rechecking is None, "the failure")
        assert app.report is saved and isinstance(app.screen, OverviewScreen)
        text = screen_text(app)
        assert "as recorded in the snapshot, not re-evaluated" in text and "re-checking" not in text
        assert any("the checks broke. The findings are shown as saved." in n for n in notices(app))
        assert app.return_code is None  # the app goes on


async def test_this_versions_snapshot_is_not_rechecked(tmp_path: Path, held: HeldChecks) -> None:
    report = build_report()
    assert report_module.is_current(report.fingerprint, calendar=report.calendar)
    app = make_app(snapshot=save(report, tmp_path / "current.json"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        assert app.report is not None and not app.report.as_recorded
        assert app.rechecking is None and held.runs == 0
        assert "re-checking" not in screen_text(app)


async def test_another_snapshot_opened_meanwhile_wins(tmp_path: Path, held: HeldChecks) -> None:
    current = build_report()
    other = save(current, tmp_path / "current.json")
    app = make_app(snapshot=saved_by(tmp_path, "another k8saudit version"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: held.runs == 1, "the re-check to start")
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, PathDialog)
        app.screen.query_one(Input).value = str(other)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.report_path == other, "the other snapshot")
        shown = app.report
        held.release()  # the first snapshot's re-check ends now: it is for a report not shown
        await wait_for(pilot, lambda: not app.workers, "the first load to end")
        await pilot.pause()
        assert app.report is shown and app.rechecking is None
        assert not any(n.startswith("Re-checked") for n in notices(app))


def test_a_cancelled_load_posts_nothing_after_the_saved_findings(tmp_path: Path) -> None:
    """Another snapshot opened, or the app quitting: the checks stop between two checks and the
    job ends without a word (`load_report` in its worker thread, here called directly)."""
    posted = []
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # not yet right after the saved findings; then at the first check

    jobs.load_report(saved_by(tmp_path, "another k8saudit version"), posted.append, cancelled=cancelled)
    assert [type(m) for m in posted] == [ReportLoaded]
    assert posted[0].rechecking and posted[0].report.as_recorded
    assert len(asked) == 2

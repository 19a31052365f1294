"""Live scans through the TUI against the HTTPS replay API server: progress per kind, a forbidden
kind shown as a coverage gap, an unreachable context that leaves the app usable, cancel, rescan."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input

from k8saudit import engine
from k8saudit.collector import CollectorSettings
from k8saudit.inventory import FORBIDDEN
from k8saudit.registry import load_checks
from k8saudit.releases import ReleaseCalendar
from screens.dialogs import PathDialog
from screens.jobs import WaiverOptions
from screens.messages import ContextsLoaded
from screens.overview import OverviewScreen
from screens.picker import ContextPickerScreen
from screens.scan import ScanScreen, kind_name
from screens.table import RowTable
from tests.replay import ReplayServer, closed_port_url
from tests.test_tui_review import SMALL, header_text, row_text
from tests.tui_support import SIZE, make_app, screen_text, wait_for

TOKEN = "admin-token"


async def test_scan_shows_progress_and_a_forbidden_kind_as_a_gap(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.forbid("clusterrolebindings")
    replay_server.slow("/apis/rbac.authorization.k8s.io/v1/roles", 3, times=1)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "config")
    # One request at a time, in the kinds' order: clusterrolebindings, then roles, then the rest.
    app = make_app(kubeconfig=str(kubeconfig), settings=CollectorSettings(concurrency=1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen), "the scan screen")
        scan = app.screen
        assert isinstance(scan, ScanScreen)

        def forbidden_seen_while_roles_are_read() -> bool:
            kinds = scan.kinds
            return (
                "clusterrolebindings" in kinds
                and kinds["clusterrolebindings"].state == FORBIDDEN
                and bool(replay_server.requests_to("/apis/rbac.authorization.k8s.io/v1/roles"))
            )

        await wait_for(pilot, forbidden_seen_while_roles_are_read, "a forbidden kind mid-scan")
        replay_server.hang()  # every later request waits: the scan cannot finish while we look
        try:
            await pilot.pause()
            text = screen_text(app)
            assert "Scanning replay" in text
            assert "forbidden" in text and "listing…" in text and "ok" in text
            assert "ClusterRoleBinding" in text
            assert "elapsed" in text and " kinds" in text
            assert scan.kinds["pods"].state == "ok" and scan.kinds["pods"].objects > 0

            # the UI keeps answering while the worker scans: open and close the help
            await pilot.press("question_mark")
            assert "Keys (esc closes)" in screen_text(app)
            await pilot.press("escape")
            assert app.screen is scan
        finally:
            replay_server.unhang()

        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview", tries=1500)
        text = screen_text(app)
        assert "Coverage gaps (1)" in text
        gap_line = next(
            line for line in text.splitlines() if "ClusterRoleBinding" in line and "forbidden" in line
        )
        assert "RBAC-001" in gap_line  # the checks this gap leaves unknown
        assert f"live · {replay_server.url}" in text
        assert app.live_context == "replay"
        assert TOKEN not in text
        report = app.report
        assert report is not None and "clusterrolebindings" in report.coverage_gaps
        assert [f.status.value for f in report.findings if f.check_id == "RBAC-001"] == ["unknown"]

        # rescan (r) is offered on a live cluster; esc cancels it and the report stays
        replay_server.slow("/api/v1/pods", 5, times=1)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen), "the rescan")
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        assert app.report is report
        await pilot.press("q")


async def test_unreachable_context_says_why_and_the_app_stays_usable(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    down = closed_port_url()
    kubeconfig = replay_server.write_kubeconfig(
        tmp_path / "config",
        context="replay",
        extra_contexts=[{"name": "down", "server": down}],
    )
    app = make_app(kubeconfig=str(kubeconfig), context="down")
    async with app.run_test(size=SIZE) as pilot:
        # The picker comes up first and the scan of "down" is pushed over it; the picker is back
        # on top once the connection failed. Wait for that state, not for the first picker.
        def picker_shows_the_failure() -> bool:
            screen = app.screen
            return isinstance(screen, ContextPickerScreen) and "down" in screen.failures

        await wait_for(pilot, picker_shows_the_failure, "the connection failure", tries=1500)
        picker = app.screen
        assert isinstance(picker, ContextPickerScreen)
        await pilot.pause()
        text = screen_text(app)
        assert "✗ cannot scan down:" in text
        reason = picker.failures["down"]
        assert "127.0.0.1" in reason and "\n" not in reason
        # every context with its server and user, never a credential
        assert "replay" in text and replay_server.url in text and down in text
        assert TOKEN not in text
        assert "✗ failed" in text

        # typing filters; enter scans the highlighted context
        await pilot.press(*"repl")
        assert [c.name for c in picker.shown] == ["replay"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview", tries=1500)
        assert app.live_context == "replay"


async def test_a_rescan_that_cannot_connect_says_why_in_a_new_picker(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    """`r` after the cluster stopped accepting the credentials: the picker, pushed anew (the
    report's screens replaced the first one), shows the failure; it once crashed querying itself
    before it was mounted."""
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "config", context="replay")
    app = make_app(kubeconfig=str(kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview", tries=1500)
        replay_server.fail("/version", 401, times=None)
        await pilot.press("r")
        await wait_for(pilot, lambda: "✗ cannot scan replay:" in screen_text(app), "the failure", tries=1500)
        assert isinstance(app.screen, ContextPickerScreen) and app.is_running


async def test_current_context_is_preselected_and_cancel_returns_to_the_picker(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    kubeconfig = replay_server.write_kubeconfig(
        tmp_path / "config",
        context="replay",
        extra_contexts=[{"name": "a-staging", "server": closed_port_url()}],
    )
    replay_server.slow("/api/v1/pods", 5, times=1)
    app = make_app(kubeconfig=str(kubeconfig))
    delivered: list[ContextsLoaded] = []

    def hook(message) -> None:
        if isinstance(message, ContextsLoaded):
            delivered.append(message)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen), "the scan of the current context")
        await pilot.press("escape")
        assert isinstance(app.screen, ContextPickerScreen)
        picker = app.screen
        await wait_for(pilot, lambda: bool(picker.shown), "the contexts")
        assert [c.name for c in picker.shown] == ["replay", "a-staging"]  # current first
        assert picker.table.cursor == 0
        assert "● current" in screen_text(app)
        # ↑/↓ move the selection while the filter field has the focus
        assert isinstance(app.focused, Input)
        await pilot.press("down")
        assert picker.table.cursor == 1
        await pilot.press("up")
        assert picker.table.cursor == 0
        await pilot.pause(0.3)
        assert app.report is None  # the cancelled scan never shows up
        # the worker's message reached the app once and was forwarded to the picker once
        assert len(delivered) == 2


async def test_quit_mid_scan_stops_the_scan_thread(replay_server: ReplayServer, tmp_path: Path) -> None:
    """The scan runs in an executor thread the interpreter joins at exit: q must stop it."""
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "config")
    replay_server.slow("/api/v1/pods", 30, times=1)  # the scan would take 30 s more
    app = make_app(kubeconfig=str(kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen), "the scan screen")
        await wait_for(pilot, lambda: bool(replay_server.requests_to("/api/v1/pods")), "the pods request")
        job = app._scan_job
        assert job is not None
        assert app.check_action("rescan", ()) is False  # no second scan over this one
        await pilot.press("q")
    assert await asyncio.to_thread(job.done.wait, 10), "the scan thread is still running"
    assert job.cancelled


async def test_a_scan_is_judged_with_the_apps_calendar_notes_and_day(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    """A calendar the app was given (--refresh-releases) judges its live scans too, the note
    saying where it came from is in their reports, and waiver expiry is judged on the app's day
    (as for a snapshot it opens): this waiver expired long ago by the wall clock only."""
    refreshed = replace(ReleaseCalendar.shipped(), source="refreshed for this test")
    note = "release calendar refreshed from a test mirror"
    policy = tmp_path / "waivers.toml"
    policy.write_text('[[waiver]]\ncheck = "*"\nreason = "r"\nowner = "o"\nexpires = 2001-12-31\n')
    app = make_app(
        kubeconfig=str(replay_server.write_kubeconfig(tmp_path / "config")),
        calendar=refreshed,
        notes=[note],
        waivers=WaiverOptions(str(policy)),
        clock=lambda: datetime(2001, 6, 1, tzinfo=UTC),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview", tries=1500)
        report = app.report
        assert report is not None and report.calendar is refreshed
        assert note in report.collection.notes
        problems = [f for f in report.findings if f.status.is_problem]
        assert problems and all(f.waived for f in problems)


async def test_quit_while_the_checks_run_stops_them(
    replay_server: ReplayServer, tmp_path: Path, monkeypatch
) -> None:
    """The checks run in the scan's thread, where cancelling its task does not reach: they are
    asked between two checks whether to stop."""
    started = threading.Event()
    ran: list[str] = []
    original = engine.run_check

    def slow_check(meta, inventory, context):
        ran.append(meta.id)
        started.set()
        time.sleep(0.2)  # the whole catalog would take many seconds
        return original(meta, inventory, context)

    monkeypatch.setattr(engine, "run_check", slow_check)
    app = make_app(kubeconfig=str(replay_server.write_kubeconfig(tmp_path / "config")))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, started.is_set, "the checks", tries=1500)
        job = app._scan_job
        assert job is not None
        await pilot.press("q")
    assert await asyncio.to_thread(job.done.wait, 5), "the checks went on after quitting"
    assert 0 < len(ran) < len(load_checks()) // 2


def forbid_every_list(replay_server: ReplayServer) -> None:
    replay_server.forbid("/api/v1/*", times=None)
    replay_server.forbid("/apis/*/*/*", times=None)


async def test_a_scan_that_read_nothing_is_no_report_and_says_why_in_one_line(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    """Every list forbidden: `k8saudit scan` refuses to grade it (exit 2); the TUI graded it an F
    (exposure A) from the checks that need no object. Now: the picker says why, no report."""
    forbid_every_list(replay_server)
    app = make_app(kubeconfig=str(replay_server.write_kubeconfig(tmp_path / "config")))
    async with app.run_test(size=SIZE) as pilot:

        def refused() -> bool:
            return isinstance(app.screen, ContextPickerScreen) and "replay" in app.screen.failures

        await wait_for(pilot, refused, "the refusal", tries=1500)
        reason = app.screen.failures["replay"]
        assert reason.startswith("nothing could be read: ") and "forbidden" in reason, reason
        assert reason.endswith("; no report") and "\n" not in reason
        assert "✗ cannot scan replay: nothing could be read: " in screen_text(app)
        await pilot.pause(0.2)
        assert app.report is None and not isinstance(app.screen, OverviewScreen)
        assert app.check_action("save", ()) is False, "no snapshot of nothing to save"


async def test_a_rescan_that_read_nothing_keeps_the_report_shown(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    app = make_app(kubeconfig=str(replay_server.write_kubeconfig(tmp_path / "config")))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview", tries=1500)
        report = app.report
        forbid_every_list(replay_server)  # the credentials lost every permission since
        await pilot.press("r")
        await wait_for(
            pilot, lambda: "nothing could be read: " in screen_text(app), "the refusal", tries=1500
        )
        assert isinstance(app.screen, ContextPickerScreen) and app.report is report
        await pilot.press("escape", "escape")  # out of the filter, then back to the report
        assert isinstance(app.screen, OverviewScreen) and app.report is report


# -- no kubeconfig: the picker says so, where it looked, and what to do instead -------------------


def unwrapped(text: str) -> str:
    """`text` without its spaces and line breaks: what a line says, however 80 columns wrap it
    (a long path breaks at a hyphen)."""
    return "".join(text.split())


@pytest.mark.parametrize("missing", ["KUBECONFIG", "HOME"])
async def test_without_a_kubeconfig_the_picker_says_where_it_looked_and_what_to_do(
    missing: str, tmp_path: Path, monkeypatch
) -> None:
    """It said "No context matches." under the error, as if a filter hid the contexts."""
    if missing == "KUBECONFIG":
        looked = tmp_path / "absent-kubeconfig"
        monkeypatch.setenv("KUBECONFIG", str(looked))
    else:
        monkeypatch.delenv("KUBECONFIG", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        looked = tmp_path / ".kube" / "config"
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(
            pilot, lambda: app.screen.query("#contexts") and app.screen.load_error, "the kubeconfig"
        )
        text = unwrapped(screen_text(app))
        assert unwrapped(f"✗ no kubeconfig found at {looked}") in text
        assert "Nocontextmatches" not in text and unwrapped("No context to scan.") in text
        assert unwrapped("ctrl+o opens a saved snapshot") in text and "k8sauditdemo" in text
        assert "typetofilter" not in text and not app.screen.query_one(Input).display, "nothing to filter"
        await pilot.press("ctrl+o")  # what it says works
        assert isinstance(app.screen, PathDialog)
        await pilot.press("escape", "q")
    assert not app.is_running, "q quits: it is not typed into a hidden filter"


async def test_a_kubeconfig_without_a_context_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "config"
    empty.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    app = make_app(kubeconfig=str(empty))
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "in the kubeconfig" in screen_text(app), "the kubeconfig")
        text = unwrapped(screen_text(app))
        assert unwrapped("0 contexts in the kubeconfig") in text and unwrapped("No context to scan.") in text
        assert unwrapped("Nothing to scan: ctrl+o opens a saved snapshot") in text


async def test_at_80x24_the_picker_gives_the_context_names_the_room(tmp_path: Path) -> None:
    """Every EKS context read "arn:aws:eks…" in a 12-cell column, and the table stopped two
    columns short of the right edge."""
    names = [f"arn:aws:eks:eu-central-1:123456789012:cluster/shop-{env}" for env in ("prod", "staging")]
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\n"
        + "clusters:\n"
        + "".join(
            f"- name: {n}\n  cluster: {{server: 'https://{i}.eks.example.com'}}\n"
            for i, n in enumerate(names)
        )
        + "users:\n"
        + "".join(f"- name: {n}\n  user: {{token: t}}\n" for n in names)
        + "contexts:\n"
        + "".join(f"- name: {n}\n  context: {{cluster: {n}, user: {n}}}\n" for n in names)
    )
    app = make_app(kubeconfig=str(config))
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "2 contexts in the kubeconfig" in screen_text(app), "the contexts")
        table = app.screen.query_one("#contexts", RowTable)
        assert table.region.width == SMALL[0], "the whole width"
        assert [row_text(table, i)[2:21] for i in range(2)] == [n[:19] for n in names]
        assert "https://0.eks.exam" in row_text(table, 0), "the server too"


async def test_at_80x24_a_kind_that_cannot_be_read_says_why_in_the_room_the_kind_names_leave(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    """The kind column was 40 cells wide, "Kind (group)" for the longest: the detail of a
    forbidden kind had 12 cells left. Now the kind is as wide as the longest kind name listed,
    and the pages and times give way to the detail."""
    replay_server.forbid("secrets")
    replay_server.slow("/api/v1/resourcequotas", 3, times=1)  # listed after secrets, one at a time
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "config")
    app = make_app(kubeconfig=str(kubeconfig), settings=CollectorSettings(concurrency=1))
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScanScreen), "the scan screen")
        scan = app.screen
        assert isinstance(scan, ScanScreen)
        await wait_for(
            pilot, lambda: "secrets" in scan.kinds and scan.kinds["secrets"].state == FORBIDDEN, "secrets"
        )
        replay_server.hang()  # the scan cannot finish while we look
        try:
            await pilot.pause()
            table = scan.query_one("#scan-kinds", RowTable)
            header = header_text(table)
            longest = max(len(kind_name(key)) for key in scan.order)
            assert header.index("STATE") - header.index("KIND") == longest + 1
            detail = row_text(table, scan.order.index("secrets"))[header.index("DETAIL") :]
            assert detail.startswith("secrets is forbidden: "), detail  # was "secrets is…"
        finally:
            replay_server.unhang()

"""Waivers in the TUI: the report applies the waivers file exactly as the CLI does; `w` writes a
new waiver without touching the rest of the file, and the score moves in place; the waivers
screen lists active, expired and unused ones."""

from __future__ import annotations

import threading
import tomllib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from k8saudit.cli import demo_snapshot_path
from k8saudit.model import Status
from k8saudit.policy import load_policy
from k8saudit.snapshot import load
from screens import jobs
from screens.detail import DetailScreen
from screens.findings import FindingsScreen
from screens.jobs import WaiverOptions, work_out_waiver_effect
from screens.overview import OverviewScreen
from screens.waivers import ScopeChoice, WaiverDialog, WaiversScreen, parse_expiry
from tests.tui_support import (
    FIXED_NOW,
    SIZE,
    make_app,
    open_dialog,
    previewed,
    screen_text,
    type_at_once,
    wait_for,
)

TODAY = FIXED_NOW.date()
POLICY = """\
# k8saudit waivers for shop-prod: reviewed every quarter by the platform team.
# Keep entries in the order they were agreed.

[settings]
backup_max_age_hours = 48   # Velero runs nightly

[[waiver]]
# the on-call break-glass binding, see runbook RB-12
check = "RBAC-*"
kind = "ClusterRoleBinding"
name = "oncall-*"
reason = "break-glass group for incidents"
owner = "sre-oncall"
expires = 2027-03-31

[[waiver]]
check = "VER-004"
reason = "upgrade to 1.30 planned"
owner = "platform"
expires = 2026-01-15   # already expired: the upgrade slipped

[[waiver]]
check = "DNS-001"
name = "no-such-deployment"
reason = "left over from the old DNS setup"
owner = "platform"
expires = 2027-01-01
"""
TARGET = ("RBAC-001", "jenkins-admin")  # a critical failure of the demo


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(POLICY)
    return path


def demo_app(options: WaiverOptions):
    return make_app(snapshot=demo_snapshot_path(), demo=True, debounce_s=0.0, waivers=options)


def position_of(index, check_id: str, name: str) -> int:
    return next(i for i, f in enumerate(index.findings) if f.check_id == check_id and f.subject.name == name)


async def open_findings_on(pilot, app, check_id: str, name: str) -> FindingsScreen:
    """The findings screen, filtered to `name`, with the cursor on that finding of `check_id`."""
    await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
    await pilot.press("f", "slash", *name, "enter")
    screen = app.screen
    assert isinstance(screen, FindingsScreen)
    target = position_of(screen.index, check_id, name)
    row = screen.rows_shown.index(target)
    await pilot.press("home", *(["down"] * row))
    assert screen.highlighted == target
    return screen


def fill(dialog: WaiverDialog, **values: str) -> None:
    for name, value in values.items():
        dialog.query_one(f"#waiver-{name}", Input).value = value


async def test_the_report_applies_the_waivers_file_like_the_cli(policy_file: Path) -> None:
    app = demo_app(WaiverOptions(str(policy_file)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        policy = load_policy(policy_file)
        cli = load(demo_snapshot_path()).report(
            config=policy.config, waivers=policy.waiver_policy(), today=TODAY
        )
        assert app.report is not None
        assert app.report.scores.to_dict() == cli.scores.to_dict()
        assert [f.waiver for f in app.report.findings] == [f.waiver for f in cli.findings]
        assert app.report.waivers.source == str(policy_file)
        assert any(f.waived for f in app.report.findings), "the break-glass waiver applies"


async def test_w_writes_the_waiver_keeps_the_file_and_rescores_in_place(policy_file: Path) -> None:
    before_text = policy_file.read_bytes()
    app = demo_app(WaiverOptions(str(policy_file)))
    async with app.run_test(size=SIZE) as pilot:
        findings = await open_findings_on(pilot, app, *TARGET)
        target = findings.highlighted
        assert target is not None
        score_before = app.report.scores.overall
        area_before = app.report.scores.areas["rbac"].score
        assert findings.index.points[target] > 0

        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        text = screen_text(app)
        assert "Waive RBAC-001 on ClusterRoleBinding jenkins-admin" in text
        assert str(policy_file) in text
        await previewed(pilot, dialog)
        announced = dialog.effects["subject"]  # what waiving it does to the score (not fixing it)
        assert announced.waived == 1 and f"{announced.points:+.2f} points" in text
        expires = dialog.query_one("#waiver-expires", Input)
        assert expires.value == (TODAY + timedelta(days=90)).isoformat(), "default: 90 days"
        assert dialog.query_one("#waiver-scope", ScopeChoice).value == "subject", "default: exactly this"

        fill(dialog, reason="Jenkins is replaced by Argo CD in INFRA-88", owner="team-ci", ticket="INFRA-88")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen), "the dialog to close")
        await wait_for(pilot, lambda: app.report.findings[target].waived, "the waiver to apply")

        # the file: byte for byte what it was, plus one entry
        after_text = policy_file.read_bytes()
        assert after_text.startswith(before_text)
        added = tomllib.loads(after_text[len(before_text) :].decode())
        assert added == {
            "waiver": [
                {
                    "check": "RBAC-001",
                    "kind": "ClusterRoleBinding",
                    "namespace": "",
                    "name": "jenkins-admin",
                    "reason": "Jenkins is replaced by Argo CD in INFRA-88",
                    "owner": "team-ci",
                    "expires": TODAY + timedelta(days=90),
                    "ticket": "INFRA-88",
                }
            ]
        }
        assert len(load_policy(policy_file).waivers) == 4

        # in place: the same finding highlighted, now waived; the scores moved
        screen = app.screen
        assert isinstance(screen, FindingsScreen) and screen.index is app.index
        assert screen.highlighted == target
        assert "fail (waived)" in screen_text(app)
        assert app.report.scores.overall > score_before
        assert app.report.scores.overall == pytest.approx(announced.after)
        assert app.report.scores.areas["rbac"].score > area_before
        waiver = app.report.findings[target].waiver or {}
        assert waiver["owner"] == "team-ci" and waiver["source"].startswith(str(policy_file))

        # the overview shows the new score
        await pilot.press("o")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.pause()
        assert f"{app.report.scores.overall:.1f} / 100" in screen_text(app)
        assert app.screen.report is app.report


async def test_the_offered_expiry_is_cleared_by_ctrl_u_and_replaced_by_what_is_typed_at_once(
    policy_file: Path,
) -> None:
    """Tab to Expires: the cursor is after the offered date (not selecting it); ctrl+u and "30d"
    typed in one go set 30 days (ctrl+u used to run last and clear the "30d")."""
    app = demo_app(WaiverOptions(str(policy_file)))
    async with app.run_test(size=SIZE) as pilot:
        findings = await open_findings_on(pilot, app, *TARGET)
        target = findings.highlighted
        assert target is not None
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        await pilot.press(*"CI moves to Argo", "tab", *"team-ci", "tab")
        expires = dialog.query_one("#waiver-expires", Input)
        await wait_for(pilot, lambda: expires.has_focus, "the expiry field")
        assert expires.cursor_position == len(expires.value) and expires.selected_text == ""
        type_at_once(app, "ctrl+u", *"30d", "enter")
        await wait_for(pilot, lambda: app.report.findings[target].waived, "the waiver to apply")
        waiver = load_policy(policy_file).waivers[-1]
        assert (waiver.reason, waiver.owner) == ("CI moves to Argo", "team-ci")
        assert waiver.expires == TODAY + timedelta(days=30)


async def test_the_preview_is_worked_out_off_the_ui_thread_and_a_stale_one_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choosing a scope shows "working…" until a worker has worked out what it changes; the answer
    for a scope chosen before (slow to come) never replaces the preview of the one chosen since,
    and is kept: choosing that scope again shows it at once."""
    gate = threading.Event()  # holds back the namespace scope's worker
    ui_thread = threading.get_ident()
    threads = []

    def held_back(report, finding, scope, today, post) -> None:
        threads.append(threading.get_ident())
        if scope == "namespace":
            gate.wait(10)
        work_out_waiver_effect(report, finding, scope, today, post)

    monkeypatch.setattr(jobs, "work_out_waiver_effect", held_back)
    app = demo_app(WaiverOptions(cwd=tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        problem = next(f for f in app.index.findings if f.status is Status.FAIL and f.subject.namespace)
        app.open_finding(app.index.findings.index(problem))
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        effect = dialog.query_one("#waiver-effect", Static)
        assert "It waives 1 failing finding" in await previewed(pilot, dialog)
        scope = dialog.query_one("#waiver-scope", ScopeChoice)
        scope.focus()

        await pilot.press("down")  # its namespace: the worker is held back
        await pilot.pause()
        assert scope.value == "namespace" and "working out what it changes…" in str(effect.content)
        await pilot.press("down")  # the whole check, while the namespace is still worked out
        check_text = await previewed(pilot, dialog)
        check_effect = dialog.effects["check"]
        assert check_effect.describe() in check_text

        gate.set()  # the namespace's answer comes now, stale
        await wait_for(pilot, lambda: "namespace" in dialog.effects, "the stale answer")
        assert str(effect.content) == check_text, "the scope chosen last keeps its preview"

        await pilot.press("up")  # back to the namespace: its answer was kept, no new worker
        await pilot.pause()
        assert dialog.effects["namespace"].describe() in str(effect.content)
        assert len(threads) == 3 and ui_thread not in threads


async def test_w_in_the_detail_for_the_whole_namespace(tmp_path: Path) -> None:
    """From the detail screen, with the namespace scope; the file is created when missing."""
    app = demo_app(WaiverOptions(cwd=tmp_path))  # no file anywhere: ./.k8saudit.toml is created
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        index = app.index
        problem = next(
            f for f in index.findings if f.status is Status.FAIL and f.subject.namespace and not f.waived
        )
        same_namespace = [
            i
            for i, f in enumerate(index.findings)
            if f.check_id == problem.check_id
            and f.subject.namespace == problem.subject.namespace
            and f.status.is_problem
        ]
        app.open_finding(index.findings.index(problem))
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        assert dialog.request.target == tmp_path / ".k8saudit.toml"
        # (the path wraps where the temporary directory's name puts it: read the line, not the screen)
        assert "its comments and other entries are kept" in str(
            dialog.query_one("#waiver-target", Static).content
        )
        fill(dialog, reason="accepted for the namespace", owner="team-x", expires="30d")
        dialog.query_one("#waiver-scope", ScopeChoice).focus()
        await pilot.press("down")  # this subject -> its namespace
        assert dialog.query_one("#waiver-scope", ScopeChoice).value == "namespace"
        await pilot.press("enter")  # enter on the scope list writes too
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the dialog to close")
        await wait_for(pilot, lambda: app.index is not index, "the waivers to apply again")
        assert all(app.index.findings[i].waived for i in same_namespace)
        assert "waived: accepted for the namespace" in screen_text(app)
        written = (tmp_path / ".k8saudit.toml").read_text()
        assert (
            written.startswith("# k8saudit policy")
            and f'namespace = "{problem.subject.namespace}"' in written
        )
        assert f"expires = {TODAY + timedelta(days=30)}" in written


async def test_bad_input_and_an_unwritable_file_are_one_line_in_the_dialog(
    tmp_path: Path, policy_file: Path
) -> None:
    before = policy_file.read_bytes()
    app = demo_app(WaiverOptions(str(policy_file)))
    async with app.run_test(size=SIZE) as pilot:
        await open_findings_on(pilot, app, *TARGET)
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)

        def problem() -> str:
            return str(dialog.query_one("#waiver-problem", Static).content)

        await pilot.press("enter")
        assert problem() == "Reason: say why this risk is accepted."
        assert dialog.query_one("#waiver-reason", Input).has_focus
        fill(dialog, reason="r")
        await pilot.press("enter")
        assert problem().startswith("Owner:") and dialog.query_one("#waiver-owner", Input).has_focus
        fill(dialog, owner="o", expires="next tuesday")
        await pilot.press("enter")
        assert problem().startswith("Expires: expected a date like")
        fill(dialog, expires="2020-01-01")
        await pilot.press("enter")
        assert problem() == "Expires: 2020-01-01 is in the past (a waiver applies up to its expiry day)"
        assert "\n" not in problem()
        assert policy_file.read_bytes() == before and isinstance(app.screen, WaiverDialog)

        # a file that cannot be written: the dialog stays, says why in one line
        dialog.request = replace(dialog.request, target=tmp_path / "no-such-dir" / "waivers.toml")
        fill(dialog, expires="2027-01-01")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "cannot write" in problem(), "the write error")
        assert "directory" in problem() and "\n" not in problem()
        assert isinstance(app.screen, WaiverDialog) and not dialog.writing
        await pilot.press("escape")
        assert isinstance(app.screen, FindingsScreen)
        assert not app.report.findings[app.screen.highlighted].waived


async def test_w_refuses_what_cannot_be_waived(policy_file: Path) -> None:
    app = demo_app(WaiverOptions(str(policy_file)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        index = app.index
        passing = next(i for i, f in enumerate(index.findings) if f.status is Status.PASS)
        waived = next(i for i, f in enumerate(index.findings) if f.waived)
        for position, expected in ((passing, "Only failing or warning"), (waived, "Already waived by")):
            app.clear_notifications()
            app.waive(index, position)
            await pilot.pause()
            assert not isinstance(app.screen, WaiverDialog)
            assert any(expected in n.message for n in app._notifications)
    off = demo_app(WaiverOptions(str(policy_file), waivers=False))
    async with off.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(off.screen, OverviewScreen), "the overview")
        assert not any(f.waived for f in off.report.findings), "--no-waivers"
        off.waive(off.index, position_of(off.index, *TARGET))
        await pilot.pause()
        assert any("--no-waivers" in n.message for n in off._notifications)


async def test_waivers_screen_lists_expired_unused_and_active(policy_file: Path) -> None:
    app = demo_app(WaiverOptions(str(policy_file)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        text = screen_text(app)
        assert "waived:   1  (^w: waivers)" in text and "waivers:  1 expired · 1 unused" in text
        await pilot.press("ctrl+w")
        screen = app.screen
        assert isinstance(screen, WaiversScreen)
        assert [(u.state, u.waiver.check) for u in screen.uses] == [
            ("expired", "VER-004"),
            ("unused", "DNS-001"),
            ("active", "RBAC-*"),
        ], "what needs attention first"
        text = screen_text(app)
        assert f"waivers file  {policy_file}" in text
        assert "would waive 1" in text and "waives none" in text
        assert "judged as of 2026-11-22" in text
        assert "2026-01-15" in text and "upgrade to 1.30 planned" in text
        # enter: the findings of the waiver's check
        await pilot.press("enter")
        assert isinstance(app.screen, FindingsScreen)
        assert app.screen.filter.text == "ver-004"


async def test_at_80_columns_a_long_summary_value_wraps_under_itself(policy_file: Path) -> None:
    """The expiry line went on at column 1, under its label ("its expiry day")."""
    app = demo_app(WaiverOptions(str(policy_file)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        await pilot.press("ctrl+w")
        await wait_for(pilot, lambda: isinstance(app.screen, WaiversScreen), "the waivers")
        lines = screen_text(app).splitlines()
        expiry = next(i for i, line in enumerate(lines) if line.startswith(" expiry "))
        value_column = lines[expiry].index("judged as of")
        assert lines[expiry + 1].startswith(" " * value_column + "its expiry day"), lines[expiry : expiry + 2]


def test_expiry_accepts_dates_and_days() -> None:
    assert parse_expiry("2027-02-20", TODAY).isoformat() == "2027-02-20"
    assert parse_expiry(" 30d ", TODAY) == TODAY + timedelta(days=30)
    assert parse_expiry("+7 days", TODAY) == TODAY + timedelta(days=7)
    assert parse_expiry(TODAY.isoformat(), TODAY) == TODAY, "today is the last day it applies"
    for bad in ("", "tomorrow", "2027-13-01", "-5d"):
        with pytest.raises(ValueError, match=r"^Expires: expected a date"):
            parse_expiry(bad, TODAY)

"""Drive the TUI by keys with Textual's Pilot: demo → findings → filters → detail → YAML → back,
save and reload a snapshot, help, palette, quit."""

from __future__ import annotations

import errno
import gzip
from pathlib import Path

import orjson
import pytest
from textual.widgets import Input, Select, Static

from k8saudit.cli import demo_snapshot_path
from k8saudit.model import Severity, Status
from k8saudit.snapshot import load
from screens.actions import ACTIONS, SCOPE_TITLES, actions_for
from screens.app import K8sAuditApp
from screens.detail import DetailScreen
from screens.dialogs import HelpScreen, PathDialog
from screens.findings import FindingsScreen
from screens.findings_index import PROBLEMS
from screens.overview import OverviewScreen
from screens.resource import ResourceScreen
from screens.table import RowTable
from tests.tui_support import SIZE, make_app, open_dialog, sample_report, screen_text, type_at_once, wait_for


def shown_findings(app: K8sAuditApp):
    screen = app.screen
    assert isinstance(screen, FindingsScreen)
    return [screen.index.findings[i] for i in screen.rows_shown]


async def test_demo_walkthrough_by_keys() -> None:
    app = make_app(snapshot=demo_snapshot_path(), demo=True, debounce_s=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        text = screen_text(app)
        assert "shop-prod" in text and "Top fixes" in text and "Coverage gaps" in text
        report = app.report
        assert report is not None
        assert f"{report.scores.overall:.1f} / 100" in text

        await pilot.press("f")
        assert isinstance(app.screen, FindingsScreen)
        everything = shown_findings(app)
        assert len(everything) == len(report.findings)
        # failing first
        ranks = [f.status.rank for f in everything]
        assert ranks == sorted(ranks)

        # filter by text: "/" focuses the filter, typing narrows, enter returns to the table
        target = next(f for f in report.findings if f.status is Status.FAIL)
        word = target.subject.name
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*word)
        await pilot.press("enter")
        assert isinstance(app.focused, RowTable)
        narrowed = shown_findings(app)
        assert target in narrowed
        assert 0 < len(narrowed) < len(everything)
        assert all(word.lower() in str(f.subject).lower() + f.message.lower() for f in narrowed) or all(
            word.lower() in app.screen.index.search_key[report.findings.index(f)] for f in narrowed
        )

        # filter by severity: "v" opens the picker; choose "critical" (first after "any severity")
        await pilot.press("x")  # clear
        assert len(shown_findings(app)) == len(everything)
        await pilot.press("v")
        await pilot.press("down", "enter")
        critical = shown_findings(app)
        assert critical and all(report.checks[f.check_id].severity is Severity.CRITICAL for f in critical), (
            "severity filter"
        )
        assert app.screen.query_one("#filter-severity", Select).value == "critical"

        # open the detail of the first critical finding about a collected object
        position = next(
            p for p, f in enumerate(critical) if report.inventory.object_for(f.subject) is not None
        )
        await pilot.press("home", *(["down"] * position))
        first = critical[position]
        assert app.screen.index.findings[app.screen.highlighted] is first
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        text = screen_text(app)
        meta = report.checks[first.check_id]
        assert meta.title in text
        assert "Why it matters" in text and "How to fix" in text and "Every subject" in text
        assert app.screen.query_one("#detail-remediation") and app.screen.query_one("#detail-evidence")
        assert str(first.subject) in text

        # enter on the subject opens its collected YAML
        await pilot.press("enter")
        assert isinstance(app.screen, ResourceScreen)
        text = screen_text(app)
        assert f"name: {first.subject.name}" in text
        assert f"kind: {first.subject.kind}" in text
        assert "Findings about it" in text

        # esc walks back the same way
        await pilot.press("escape")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, FindingsScreen)
        assert shown_findings(app) == critical  # the filter survived the round trip
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("escape")  # the overview is the root: it stays
        assert isinstance(app.screen, OverviewScreen)

        await pilot.press("q")
    assert app.return_code == 0


async def test_save_then_reload_snapshot(tmp_path: Path) -> None:
    target = tmp_path / "saved.json.gz"
    app = make_app(report=sample_report())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, PathDialog)
        field = app.screen.query_one(Input)
        assert field.value.startswith("k8saudit-test-20261120-080000")  # context + collection time
        field.value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists, "the snapshot file")
        assert target.stat().st_mode & 0o777 == 0o600
        saved = load(target)
        assert len(saved.findings) == len(app.report.findings)

        # saving again to the same name asks before overwriting
        await pilot.press("s")
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        assert isinstance(app.screen, PathDialog)
        assert "exists" in screen_text(app)
        await pilot.press("escape")

        # export: the JSON report, written atomically
        exported = tmp_path / "report.json"
        await pilot.press("e")
        app.screen.query_one(Input).value = str(exported)
        await pilot.press("enter")
        await wait_for(pilot, exported.exists, "the JSON report")
        data = orjson.loads(exported.read_bytes())
        assert data["schema"] == "k8saudit.report/1"
        assert len(data["findings"]) == len(app.report.findings)
        assert not list(tmp_path.glob(".*.tmp"))

        # reload what was saved (ctrl+o), in the same screens
        await pilot.press("f")
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, PathDialog)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.report_path == target, "the reloaded snapshot")
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        assert str(target) in screen_text(app)
        assert len(app.screen_stack) == 2  # the old report's screens are gone
        await pilot.press("q")


async def test_ctrl_u_and_a_path_typed_at_once_in_the_save_dialog_save_there(tmp_path: Path) -> None:
    """ctrl+u clears the offered name and the path typed right after it is the one saved to, typos
    corrected on the way: the field's editing keys act in the order they were typed (ctrl+u used
    to run after the characters that followed it, and cleared them)."""
    target = tmp_path / "saved.json.gz"
    app = make_app(report=sample_report())
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, app, "s", PathDialog)
        type_at_once(app, "ctrl+u", *f"{target}x", "backspace", "enter")
        await wait_for(pilot, target.exists, "the snapshot file")
        assert len(load(target).findings) == len(app.report.findings)


def _no_space(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("k8saudit.snapshot.os.fsync", fsync)


def _no_permission(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def mkstemp(*args: object, **kwargs: object) -> None:  # root may write anywhere: say it cannot
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("k8saudit.snapshot.tempfile.mkstemp", mkstemp)


def _device(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("out.json", "out.json.gz"):
        (tmp_path / name).symlink_to("/dev/full")


# (what is typed, what stops the write, what the dialog says); `{tmp}` is the test's directory.
WRITE_FAILURES = [
    pytest.param(
        "{tmp}/no-such-dir/out.json", None, "directory {tmp}/no-such-dir does not exist", id="no-dir"
    ),
    pytest.param("{tmp}/out.json", _device, "it is not a regular file (a device)", id="device"),
    pytest.param("/dev/full", None, "its name must end in", id="suffix"),
    pytest.param("{tmp}/out.json", _no_permission, "Permission denied", id="denied"),
    pytest.param("{tmp}/out.json", _no_space, "No space left on device", id="disk-full"),
]


@pytest.mark.parametrize("key", ["s", "e"])
@pytest.mark.parametrize(("typed", "patch", "said"), WRITE_FAILURES)
async def test_a_save_or_export_that_cannot_be_written_says_why_in_the_dialog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, typed: str, patch, said: str
) -> None:
    """The dialog stays open with the typed path and one line saying why; corrected, it writes."""
    if patch is not None:
        patch(monkeypatch, tmp_path)
    typed = typed.format(tmp=tmp_path)
    if key == "s":
        typed = typed.replace(".json", ".json.gz")
    app = make_app(report=sample_report())
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(pilot, app, key, PathDialog)
        field = dialog.query_one(Input)
        field.value = typed
        await pilot.press("enter")
        problem = dialog.query_one("#dialog-problem", Static)
        await wait_for(pilot, lambda: not dialog.writing, "the write to fail")
        assert app.screen is dialog, "the dialog stays open"
        assert field.value == typed and app.focused is field, "what was typed is there to correct"
        line = str(problem.content)
        assert said.format(tmp=tmp_path) in line and "\n" not in line
        assert dialog.query_one("#dialog").region.contains_region(problem.region), "in view"
        assert not app._notifications, "said in the dialog, not in a notice behind it"
        assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")], "no temp file left behind"

        monkeypatch.undo()
        fixed = tmp_path / ("fixed.json.gz" if key == "s" else "fixed.json")
        field.value = str(fixed)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not dialog, "the dialog to close")
        assert fixed.is_file()
        assert [n.message for n in app._notifications][-1].endswith(f"to {fixed}")


async def test_open_missing_snapshot_from_dialog_says_why(tmp_path: Path) -> None:
    app = make_app(report=sample_report())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(tmp_path / "nope.json")
        await pilot.press("enter")
        assert isinstance(app.screen, PathDialog)
        assert "No such file" in screen_text(app)
        bad = tmp_path / "bad.json.gz"
        bad.write_bytes(gzip.compress(b'{"format": "something-else/1"}'))
        app.screen.query_one(Input).value = str(bad)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await wait_for(pilot, lambda: not app.workers, "the load worker")
        assert app.report_path != bad  # the shown report is unchanged and the app still works
        await pilot.press("f")
        assert isinstance(app.screen, FindingsScreen)


async def test_corrupt_snapshot_at_startup_exits_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.json"
    bad.write_text('{"format": "k8saudit.snapshot/1", "inventory": ')
    app = make_app(snapshot=bad)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.return_code is not None, "the app to exit")
    assert app.return_code == 1
    assert app.startup_error is not None and "truncated" in app.startup_error


async def test_help_lists_every_action_and_palette_runs_them() -> None:
    app = make_app(report=sample_report())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = " ".join(str(w.content) for w in app.screen.query(".help-keys"))
        for action in ACTIONS:
            assert action.description in help_text, action.id
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)

        await pilot.press("colon")
        await pilot.press(*"findings")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen), "the palette command")

        # screen-scoped actions are offered there too
        await pilot.press("ctrl+p")
        await pilot.press(*"sort by points")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.sort.column == "points", "sorting by points")


def test_one_action_table_feeds_every_binding() -> None:
    from screens.app import K8sAuditApp as App
    from screens.base import AuditScreen
    from screens.dialogs import HelpScreen as Help
    from screens.dialogs import PathDialog as Dialog
    from screens.probe import ProbeDialog
    from screens.table import RowTable as Table
    from screens.waivers import ScopeChoice, WaiverDialog

    screens = {cls.SCOPE: cls for cls in _subclasses(AuditScreen) if cls.SCOPE}
    owners = {
        "app": App,
        "table": Table,
        "dialog": Dialog,
        "help": Help,
        "waiver": WaiverDialog,
        "choice": ScopeChoice,
        "probe": ProbeDialog,
        **screens,
    }
    for scope in {a.scope for a in ACTIONS}:
        assert scope in SCOPE_TITLES, scope
        owner = owners[scope]
        ids = {b.id for bindings in owner._merged_bindings.key_to_bindings.values() for b in bindings}
        for action in actions_for(scope):
            assert action.id in ids, f"{action.id} is not bound on {owner.__name__}"
            method = action.handler.split("(", 1)[0]
            assert hasattr(owner, f"action_{method}"), f"{owner.__name__} lacks action_{method}"


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


async def test_sorting_and_waived_findings() -> None:
    report = sample_report()
    app = make_app(report=report)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        rows = shown_findings(app)
        waived = [f for f in rows if f.waived]
        assert waived, "the sample has a waived finding"
        assert "fail (waived)" in screen_text(app)

        await pilot.press("W")  # hide waived
        assert not any(f.waived for f in shown_findings(app))
        assert "waived hidden" in screen_text(app)
        await pilot.press("W")
        assert any(f.waived for f in shown_findings(app))

        await pilot.press("P")  # most points first
        points = [app.screen.index.points[i] for i in app.screen.rows_shown]
        assert points == sorted(points, reverse=True)
        await pilot.press("P")  # again: reversed
        points = [app.screen.index.points[i] for i in app.screen.rows_shown]
        assert points == sorted(points)

        await pilot.press("I")
        ids = [f.check_id for f in shown_findings(app)]
        assert ids == sorted(ids)
        assert "CHECK ▲" in screen_text(app)

        # status filter: fail + warn only
        await pilot.press("t", "down", "enter")
        assert app.screen.filter.status == PROBLEMS
        assert all(f.status.is_problem for f in shown_findings(app))


async def test_text_filter_is_debounced_and_narrows() -> None:
    app = make_app(report=sample_report(), debounce_s=3600)  # never fires by itself in this test
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        screen = app.screen
        before = list(screen.rows_shown)
        await pilot.press("slash", *"replica")
        assert screen.rows_shown == before  # typed right after the screen's own run: gathered
        await pilot.press("enter")  # enter applies at once
        assert screen.rows_shown != before
        assert all("replica" in screen.index.search_key[i] for i in screen.rows_shown)
        assert len(screen.rows_shown) == 3


async def test_a_key_after_a_pause_filters_at_once_and_a_burst_after_it_waits() -> None:
    now = [1000.0]
    app = make_app(report=sample_report(), debounce_s=0.15, monotonic=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f", "slash")
        screen = app.screen
        everything = list(screen.rows_shown)
        now[0] += 1  # a pause, longer than the debounce
        await pilot.press("x")
        after_x = list(screen.rows_shown)
        assert after_x != everything, "the first key after a pause is answered at once"
        assert len(after_x) == 1 and "x" in screen.index.search_key[after_x[0]]
        await pilot.press("backspace", *"replica")  # the clock stands still: within the debounce
        assert screen.rows_shown == after_x, "a burst waits for its last key"
        await pilot.pause(0.4)  # the debounce timer (real time) fires once after the burst
        assert len(screen.rows_shown) == 3
        assert all("replica" in screen.index.search_key[i] for i in screen.rows_shown)


@pytest.mark.parametrize("key", ["n", "a"])
async def test_namespace_and_area_pickers(key: str) -> None:
    app = make_app(report=sample_report())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f", key, "down", "enter")
        screen = app.screen
        chosen = screen.filter.namespace if key == "n" else screen.filter.area
        assert chosen is not None
        for i in screen.rows_shown:
            value = screen.index.namespace[i] if key == "n" else screen.index.area[i]
            assert value == chosen


async def test_keys_typed_in_a_burst_after_slash_go_to_the_filter() -> None:
    """A paste or a fast typist: every key after "/" is queued before the UI catches up.
    They must land in the filter, not run table actions ("e" would open the export dialog)."""
    app = make_app(report=sample_report(), debounce_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        type_at_once(app, *"/reps")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FindingsScreen)  # no dialog opened by "e" or "s"
        field = app.screen.query_one("#filter-text", Input)
        assert field.value == "reps"
        await pilot.press("slash")  # in the filter, "/" is just a character (subjects are ns/name)
        assert field.value == "reps/"

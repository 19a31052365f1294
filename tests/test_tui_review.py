"""What a hand review of the TUI found: every screen usable at 80x24, esc out of a filter
dropdown, the waiver dialog's real effect on the score, the POINTS column under a scrollbar,
truthful sort directions, and a waived check that is not called passing."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from textual import events
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Footer, Input, Select, Static
from textual.widgets._footer import FooterKey

from k8saudit.cli import demo_snapshot_path
from k8saudit.model import Severity, Status
from k8saudit.registry import AREAS
from k8saudit.report import rewaive
from k8saudit.scoring import CheckScore
from k8saudit.snapshot import load, save
from k8saudit.waivers import SCOPE_CHECK, SCOPE_NAMESPACE, SCOPE_SUBJECT, WaiverPolicy, waiver_for_finding
from screens.app import K8sAuditApp
from screens.detail import DetailScreen, points_summary
from screens.dialogs import HelpScreen
from screens.diff import DiffScreen
from screens.findings import COLUMNS as FINDING_COLUMNS
from screens.findings import FindingsScreen
from screens.findings_index import FindingFilter
from screens.fleet import FleetScreen
from screens.jobs import WaiverOptions
from screens.overview import OverviewScreen
from screens.picker import ContextPickerScreen
from screens.probe import ProbeDialog
from screens.table import RowTable, column_widths
from screens.text import to_yaml
from screens.waivers import ScopeChoice, WaiverDialog
from tests.tui_support import (
    FIXED_BINDING,
    FIXED_NOW,
    INTRODUCED_BINDING,
    SIZE,
    demo_variant,
    make_app,
    open_dialog,
    previewed,
    screen_text,
    wait_for,
)

SMALL = (80, 24)  # the classic terminal
TODAY = FIXED_NOW.date()


NO_WAIVERS_FILE = WaiverOptions(cwd=Path("/nonexistent"), environ={})  # annotations only


def demo_app(waivers: WaiverOptions = NO_WAIVERS_FILE) -> K8sAuditApp:
    """The demo cluster's report, evaluated here with `waivers`. (Opened as a snapshot, it would
    be re-checked in a worker that swaps the overview under a test when it ends.)"""
    report = load(demo_snapshot_path()).report(waivers=waivers.waiver_policy(waivers.load()), today=TODAY)
    return make_app(report=report, debounce_s=0.0, waivers=waivers)


async def open_overview(pilot, app) -> OverviewScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
    screen = app.screen
    assert isinstance(screen, OverviewScreen)
    return screen


async def open_findings(pilot, app) -> FindingsScreen:
    await open_overview(pilot, app)
    await pilot.press("f")
    screen = app.screen
    assert isinstance(screen, FindingsScreen)
    return screen


def header_text(table: RowTable) -> str:
    return table.render_line(0).text


def row_text(table: RowTable, row: int) -> str:
    return table.render_line(row + 1).text


def visible(widget, within) -> bool:
    """`widget` is wholly inside `within`'s region on screen (not scrolled or cut off)."""
    return within.region.contains_region(widget.region)


# -- 1. every screen at 80x24 ---------------------------------------------------------------------


async def test_overview_at_80x24_scrolls_to_every_panel_under_a_fixed_top_bar() -> None:
    app = demo_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_overview(pilot, app)
        body = screen.query_one("#overview-body", VerticalScroll)
        assert screen.query_one("#topbar").region.y == 0
        assert f"{app.report.scores.overall:.1f} / 100" in screen_text(app), "the grade shows first"
        for panel in ("#score-panel", "#areas-panel", "#cluster-panel"):
            assert screen.query_one(panel).region.right <= SMALL[0], f"{panel} runs off the screen"
        assert screen.query_one("#cluster-panel").region.y > screen.query_one("#score-panel").region.y

        assert body.max_scroll_y > 0, "taller than the terminal: it scrolls"
        await pilot.press("j")  # moving in the (focused) fixes table brings it into view
        assert visible(screen.query_one("#fixes"), body)
        await pilot.press("tab", "tab")
        failing = screen.query_one("#failing", RowTable)
        assert app.focused is failing and visible(failing, body)
        assert screen.query_one("#topbar").region.y == 0, "the top bar never scrolls away"
        assert "POINTS" in header_text(failing)


async def test_overview_area_bars_fit_their_panel_and_tell_the_score() -> None:
    app = demo_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_overview(pilot, app)
        lines = screen_text(app).splitlines()
        line = next(line for line in lines if " versions " in line and ("█" in line or "░" in line))
        filled, empty = line.count("█"), line.count("░")
        score = app.report.scores.areas["versions"].score
        assert filled + empty < 24, "narrower than at 160 columns"
        assert filled == round(score / 100 * (filled + empty))


@pytest.mark.parametrize("size", [SMALL, (130, 30), SIZE], ids=lambda size: "x".join(map(str, size)))
async def test_every_area_row_shows_its_grade_score_and_bar_without_scrolling(size) -> None:
    """Between 120 and 149 columns the cluster panel beside the areas left them 9 to 30 cells:
    "versi", no grade, no score, no bar. Now it goes under them there, as at 80 columns."""
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        screen = await open_overview(pilot, app)
        panel = screen.query_one("#areas-panel")
        assert not panel.allow_vertical_scroll, "every area row in its box"
        text = screen_text(app)
        for area in AREAS:
            scored = app.report.scores.areas[area]
            row = re.compile(rf"\b{area} +{scored.grade} +{scored.score:.1f} +[█░]{{10,}} ")
            assert row.search(text), f"{area} at {size}"
        assert all(visible(line, panel) for line in panel.query(".area-line"))


async def test_findings_at_80x24_show_every_filter_and_the_points() -> None:
    app = demo_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_findings(pilot, app)
        for widget_id in (
            "filter-text",
            "filter-waived",
            *(f"filter-{w}" for w in ("severity", "namespace")),
        ):
            assert screen.query_one(f"#{widget_id}").region.right <= SMALL[0], widget_id
        assert screen.query_one("#filter-text", Input).region.width >= 30
        header = header_text(screen.table)
        assert header.rstrip().endswith("POINTS") and "AREA" not in header  # the check id names it
        first = screen.index.points[screen.rows_shown[0]]
        assert row_text(screen.table, 0).rstrip().endswith(f"+{first:.2f}")


async def test_waiver_dialog_at_80x24_scrolls_its_form_and_keeps_its_keys_in_view(tmp_path: Path) -> None:
    app = demo_app(WaiverOptions(cwd=tmp_path))
    async with app.run_test(size=SMALL) as pilot:
        await open_findings(pilot, app)
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        box = dialog.query_one("#waiver-dialog")
        assert box.region.right <= SMALL[0] and box.region.bottom <= SMALL[1]
        hint = dialog.query_one(".dialog-foot")
        assert visible(hint, box) and "enter: write" in screen_text(app)

        await pilot.press("shift+tab")  # the scope comes before the reason
        scope = dialog.query_one("#waiver-scope", ScopeChoice)
        form = dialog.query_one(".dialog-body")
        assert app.focused is scope and visible(scope, form)
        assert "(the whole check)" in screen_text(app), "every choice shows, wrapped or not"

        await pilot.press("enter")  # no reason yet: the problem line says so, in view
        assert "Reason: say why" in screen_text(app)
        assert app.focused is dialog.query_one("#waiver-reason", Input)


@pytest.mark.parametrize("size", [SMALL, SIZE])
async def test_waiver_dialog_opens_with_the_scope_and_what_it_changes_in_view(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """What is about to be waived, every scope and what the chosen one does to the score show
    without scrolling, with the field being typed in: at 80x24 too, for the demo's first
    finding (a four-line message about a long subject)."""
    app = demo_app(WaiverOptions(cwd=tmp_path))
    async with app.run_test(size=size) as pilot:
        await open_findings(pilot, app)
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        await pilot.pause()
        form = dialog.query_one(".dialog-body")
        assert form.scroll_y == 0, "opened at its top"
        for widget_id in ("waiver-about", "waiver-scope", "waiver-effect", "waiver-reason"):
            assert visible(dialog.query_one(f"#{widget_id}"), form), widget_id
        text = screen_text(app)
        assert "(the whole check)" in text and "It waives 1 failing finding;" in text
        assert app.focused is dialog.query_one("#waiver-reason", Input)
        if size == SIZE:
            assert form.max_scroll_y == 0, "at 160x48 the whole form shows"


async def test_help_at_80x24_is_one_scrolling_column() -> None:
    app = demo_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_overview(pilot, app)
        helper = await open_dialog(pilot, app, "question_mark", HelpScreen)
        box = helper.query_one("#help", VerticalScroll)
        assert box.region.right <= SMALL[0]
        left, right = helper.query(".help-column")
        assert left.region.x == right.region.x, "one column under the other"
        assert box.max_scroll_y > 0
        await pilot.press("end")
        assert "Good to know" in screen_text(app)


async def test_probe_dialog_at_80x24_keeps_its_keys_in_view() -> None:
    app = demo_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_findings(pilot, app)
        exposed = next(i for i in screen.rows_shown if screen.index.findings[i].check_id == "EXP-001")
        await pilot.press("home", *["down"] * screen.rows_shown.index(exposed))
        dialog = await open_dialog(pilot, app, "p", ProbeDialog)
        box = dialog.query_one("#probe-dialog")
        assert box.region.right <= SMALL[0] and box.region.bottom <= SMALL[1]
        assert visible(dialog.query_one(".dialog-foot"), box)
        assert "enter: probe · esc: cancel" in screen_text(app)


async def test_at_160x48_nothing_scrolls_and_tab_goes_from_table_to_table() -> None:
    app = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_overview(pilot, app)
        body = screen.query_one("#overview-body", VerticalScroll)
        assert body.max_scroll_y == 0 and not body.focusable
        assert screen.query_one("#cluster-panel").region.y == screen.query_one("#score-panel").region.y
        await pilot.press("tab")
        assert app.focused is screen.query_one("#gaps")
        helper = await open_dialog(pilot, app, "question_mark", HelpScreen)
        left, right = helper.query(".help-column")
        assert left.region.y == right.region.y, "two columns side by side"


def test_column_widths_drop_what_is_shown_elsewhere_before_cutting_the_last_column() -> None:
    widths = column_widths(FINDING_COLUMNS, 75)
    shown = {c.key: w for c, w in zip(FINDING_COLUMNS, widths, strict=True) if w}
    assert "area" not in shown and shown["points"] == 7
    assert sum(shown.values()) + len(shown) - 1 == 75

    roomy = column_widths(FINDING_COLUMNS, 200)
    assert all(roomy) and sum(roomy) + len(roomy) - 1 == 200
    assert all(w >= c.min_width for c, w in zip(FINDING_COLUMNS, roomy, strict=True))


# -- 2. esc out of a filter dropdown -------------------------------------------------------------


async def test_esc_closes_the_dropdown_and_a_second_esc_returns_to_the_table() -> None:
    app = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_findings(pilot, app)
        severity = screen.query_one("#filter-severity", Select)
        await pilot.press("v")
        assert severity.expanded
        await pilot.press("escape")
        assert not severity.expanded and app.focused is severity
        await pilot.press("escape")
        assert app.focused is screen.table and isinstance(app.screen, FindingsScreen)


async def test_a_quick_double_esc_on_an_open_dropdown_returns_to_the_table() -> None:
    """Both keys queued before the first is handled (a quick double tap): the second used to
    reach the closing overlay, and the focus stayed on the dropdown."""
    app = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_findings(pilot, app)
        await pilot.press("n")
        assert screen.query_one("#filter-namespace", Select).expanded
        app.post_message(events.Key("escape", None))
        app.post_message(events.Key("escape", None))
        await pilot.pause(0.1)
        assert app.focused is screen.table
        await pilot.press("j")
        assert screen.table.cursor == 1, "j moves the table, not the dropdown"
        assert isinstance(app.screen, FindingsScreen)


async def test_enter_on_the_option_already_chosen_returns_to_the_table() -> None:
    app = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_findings(pilot, app)
        await pilot.press("t")  # "any status" is chosen: enter picks it again
        assert screen.query_one("#filter-status", Select).expanded
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.focused is screen.table, "the focus back on the table")
        await pilot.press("j")
        assert screen.table.cursor == 1


# -- 3. what a waiver changes in the score --------------------------------------------------------


def spread_problem(index) -> int:
    """A failing finding whose check fails on other subjects of its namespace, and elsewhere."""
    for i, finding in enumerate(index.findings):
        if finding.status is not Status.FAIL or not finding.subject.namespace:
            continue
        problems = [f for f in index.findings if f.check_id == finding.check_id and f.status.is_problem]
        here = [f for f in problems if f.subject.namespace == finding.subject.namespace]
        if 1 < len(here) < len(problems):
            return i
    raise AssertionError("the demo has no such check")


def expected_effect(report, finding, scope: str) -> tuple[int, float, float]:
    """(findings waived, score before, score after), through the core's own re-waiving."""
    waiver = waiver_for_finding(finding, reason="r", owner="o", expires=TODAY, scope=scope)
    policy = WaiverPolicy((waiver,), annotations=report.waivers.annotations)
    after = rewaive(report, policy, TODAY)
    waived = sum(1 for f in after.findings if f.waiver and f.waiver["reason"] == "r")
    return waived, report.scores.overall, after.scores.overall


async def test_waiver_dialog_shows_what_each_scope_changes_in_the_score(tmp_path: Path) -> None:
    app = demo_app(WaiverOptions(cwd=tmp_path))  # no waivers file: only this one counts
    async with app.run_test(size=SIZE) as pilot:
        await open_overview(pilot, app)
        index, report = app.index, app.report
        position = spread_problem(index)
        finding = index.findings[position]
        app.open_finding(position)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail")
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        scope = dialog.query_one("#waiver-scope", ScopeChoice)
        scope.focus()

        shown = {}
        for name in (SCOPE_SUBJECT, SCOPE_NAMESPACE, SCOPE_CHECK):
            assert scope.value == name
            waived, before, after = expected_effect(report, finding, name)
            text = await previewed(pilot, dialog)
            assert f"It waives {waived} failing finding" in text
            if round(after - before, 2):
                assert f"from {before:.2f} to {after:.2f} ({after - before:+.2f} points)" in text
            else:  # one of several failures of a check that passes nowhere: its share stays 0
                assert f"the score stays at {before:.2f}" in text
            shown[name] = (waived, text)
            await pilot.press("down")
        assert shown[SCOPE_SUBJECT][0] == 1 < shown[SCOPE_NAMESPACE][0] < shown[SCOPE_CHECK][0]
        assert f"+{index.points[position]:.2f} points" not in shown[SCOPE_SUBJECT][1], "not the fix's gain"

        # written, the report's new score is the one the dialog announced
        for field, value in (("reason", "accepted for now"), ("owner", "team-x")):
            dialog.query_one(f"#waiver-{field}", Input).value = value
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.report is not report, "the report to be re-waived")
        assert f"to {app.report.scores.overall:.2f} (" in shown[SCOPE_CHECK][1]


# -- 4. the POINTS column under a scrollbar -------------------------------------------------------


async def test_points_column_fits_when_a_scrollbar_comes_and_goes() -> None:
    """A scrollbar takes a column without resizing the table: the widths must follow it."""
    app = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_overview(pilot, app)
        app.open_findings(FindingFilter(text="ver-006"))  # a dozen rows: no scrollbar
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FindingsScreen) and not screen.table.show_vertical_scrollbar

        def table_lines() -> tuple[str, str]:
            lines = screen_text(app).splitlines()
            header = next(n for n, line in enumerate(lines) if "SEVERITY" in line and "POINTS" in line)
            return lines[header].rstrip(), lines[header + 1].rstrip()

        header, first_row = table_lines()
        assert header.endswith("POINTS│") and first_row.endswith("+0.19│"), "flush with the border"

        await pilot.press("x")  # every finding: a scrollbar appears
        await pilot.pause()
        assert screen.table.show_vertical_scrollbar
        header, first_row = table_lines()
        first = screen.index.points[screen.rows_shown[0]]
        assert header.endswith("POINTS │") and first_row.endswith(f"+{first:.2f} │"), "not cut by it"

        await pilot.press("slash", *"ver-006", "enter")  # and goes: no blank column left behind
        await pilot.pause()
        assert not screen.table.show_vertical_scrollbar
        assert table_lines()[0].endswith("POINTS│")


# -- 5. sort directions ---------------------------------------------------------------------------


async def test_sort_keys_name_the_order_the_rows_are_in() -> None:
    app = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_findings(pilot, app)

        def severities() -> list[Severity | None]:
            return [screen.index.severity[i] for i in screen.rows_shown]

        await pilot.press("S")
        assert severities()[0] is Severity.CRITICAL and severities()[-1] is Severity.INFO
        assert "severity, most severe first" in drawn_count(app)
        assert "SEVERITY▼" in header_text(screen.table), "the arrow stays when the label is cut"
        await pilot.press("S")
        assert severities()[0] is Severity.INFO
        assert "severity, least severe first" in drawn_count(app)
        assert "SEVERITY▲" in header_text(screen.table)

        points = lambda: [screen.index.points[i] for i in screen.rows_shown]  # noqa: E731
        await pilot.press("P")
        assert points() == sorted(points(), reverse=True)
        assert "points, most first" in drawn_count(app)
        assert "POINTS▼" in header_text(screen.table)
        await pilot.press("P")
        assert points() == sorted(points())
        assert "points, fewest first" in drawn_count(app)
        assert "POINTS▲" in header_text(screen.table)


async def test_fleet_count_columns_sort_most_first_under_a_down_arrow(tmp_path: Path) -> None:
    for context, fixed in (("shop-prod", True), ("shop-staging", False)):
        save(demo_variant(fixed=fixed, context=context), tmp_path / f"{context}.json.gz")
    app = make_app(fleet=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        fleet = app.screen
        table = fleet.query_one("#fleet", RowTable)
        assert "SCORE ▲" in header_text(table), "worst (lowest) score first"
        fleet.action_sort("critical")
        await pilot.pause()
        counts = [e.problems.get("critical", 0) for e in fleet.entries]
        assert counts == sorted(counts, reverse=True) and "CRI▼" in header_text(table)
        fleet.action_sort("critical")
        await pilot.pause()
        assert "CRI▲" in header_text(table)
        await pilot.press("P")  # failing findings, critical first: the Crit column's order
        assert fleet.sort_column == "problems" and "CRI▼" in header_text(table)
        await pilot.press("P")
        assert "CRI▲" in header_text(table)


# -- 6. waived is not passing ---------------------------------------------------------------------


@pytest.fixture
def whole_check_waived(tmp_path: Path) -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(
        '[[waiver]]\ncheck = "VER-006"\nreason = "upgrade planned"\nowner = "sre"\nexpires = 2027-02-21\n'
    )
    return path


async def test_detail_of_a_waived_check_says_waived_not_passing(whole_check_waived: Path) -> None:
    app = demo_app(WaiverOptions(str(whole_check_waived)))
    async with app.run_test(size=SIZE) as pilot:
        await open_overview(pilot, app)
        index = app.index
        waived = [i for i, f in enumerate(index.findings) if f.check_id == "VER-006" and f.waived]
        assert waived and not any(
            f.check_id == "VER-006" and f.status.is_problem and not f.waived for f in index.findings
        )
        app.open_finding(waived[0])
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail")
        points = str(app.screen.query_one("#detail-points").content)
        assert points == f"nothing to gain: every failing subject is waived ({len(waived)} waived)"


def check_score(
    passing: int = 0, failing: int = 0, waived: int = 0, severity: Severity = Severity.HIGH
) -> CheckScore:
    score = CheckScore("X-001", "rbac", severity, waived=waived)
    score.counts["pass"], score.counts["fail"] = passing, failing
    return score


@pytest.mark.parametrize(
    ("check", "gain", "said"),
    [
        (check_score(passing=3), 0.0, "nothing to gain: every subject passes"),
        (
            check_score(passing=3, waived=2),
            0.0,
            "nothing to gain: every failing subject is waived (2 waived)",
        ),
        (check_score(waived=2), 0.0, "nothing to gain: every failing subject is waived (2 waived)"),
        (check_score(failing=2), 1.25, "fixing every subject gains +1.2 points"),
        (check_score(failing=1, waived=1), 2.0, "fixing every unwaived subject gains +2.0 points (1 waived)"),
        (check_score(failing=4, severity=Severity.INFO), 0.0, "4 failing, worth no points in the score"),
        (check_score(), 0.0, "nothing to gain: no subject is scored"),
        (None, 0.0, "nothing to gain: no subject is scored"),
    ],
)
def test_points_summary_tells_waived_from_passing(check: CheckScore | None, gain: float, said: str) -> None:
    assert points_summary(check, gain) == said


async def test_a_waiver_of_the_older_snapshots_finding_previews_that_snapshots_score(tmp_path: Path) -> None:
    """On the comparison, a finding only the older snapshot has (resolved since): what waiving it
    does is worked out on the older report, which the preview names; the shown (newer) one does
    not even have it. A finding of the shown report is previewed on it, named too."""
    old_path = save(demo_variant(fixed=False), tmp_path / "old.json.gz")
    new_path = save(demo_variant(fixed=True), tmp_path / "new.json.gz")
    app = make_app(snapshot=new_path, waivers=WaiverOptions(cwd=tmp_path), debounce_s=0.0)
    async with app.run_test(size=SMALL) as pilot:
        await open_overview(pilot, app)
        await pilot.press("d")
        app.screen.query_one(Input).value = str(old_path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the comparison")
        diff = app.screen
        assert isinstance(diff, DiffScreen)

        async def preview(section: str, changes, name: str, report) -> str:
            await pilot.press(section)
            position = [(c.finding.check_id, c.finding.subject.name) for c in changes].index(
                ("RBAC-001", name)
            )
            await pilot.press("home", *(["down"] * position), "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail")
            dialog = await open_dialog(pilot, app, "w", WaiverDialog)
            waived, before, after = expected_effect(report, dialog.request.finding, SCOPE_SUBJECT)
            effect = dialog.query_one("#waiver-effect", Static)
            text = await previewed(pilot, dialog)
            assert (
                f"It waives {waived} failing finding; the score goes from {before:.2f} to {after:.2f}" in text
            )
            assert visible(effect, dialog.query_one(".dialog-body")), "the whole preview, at 80x24"
            await pilot.press("escape", "escape")
            return text

        resolved = await preview("2", diff.diff.resolved, FIXED_BINDING, diff.old_index.report)
        assert resolved.startswith(
            "shop-prod, collected 2026-11-13 08:00 UTC (old snapshot, not the report shown): "
        )
        assert "It waives 1 failing finding" in resolved, "not the shown report's: it has no such finding"
        introduced = await preview("1", diff.diff.new_findings, INTRODUCED_BINDING, app.report)
        assert introduced.startswith("shop-prod, collected 2026-11-20 08:00 UTC: It waives 1 failing finding")


async def test_the_demo_label_goes_with_the_demo_file(tmp_path: Path) -> None:
    app = demo_app()
    app.demo, app.snapshot_path = True, demo_snapshot_path()
    async with app.run_test(size=SIZE) as pilot:
        await open_overview(pilot, app)
        app.show_report(app.report, path=demo_snapshot_path())
        assert app.origin_label() == "demo snapshot (no cluster)"
        app.show_report(app.report, path=tmp_path / "old.json.gz")
        await pilot.pause()
        assert app.origin_label().startswith("snapshot · ") and "demo snapshot" not in app.origin_label()


async def test_the_findings_count_of_failing_agrees_with_the_overview(tmp_path: Path) -> None:
    """Waived findings are counted apart on the findings screen, as the overview leaves them out."""
    (tmp_path / ".k8saudit.toml").write_text(
        '[[waiver]]\ncheck = "RBAC-001"\nreason = "accepted"\nowner = "team"\nexpires = "2099-01-01"\n'
    )
    app = demo_app(WaiverOptions(cwd=tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        overview = await open_overview(pilot, app)
        waived = sum(1 for f in app.report.findings if f.waived and f.status.is_problem)
        assert waived > 0
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen), "the findings")
        count = drawn_count(app)
        assert f"· {len(overview.failing):,} failing or warning (+{waived:,} waived)" in count


def drawn_count(app: K8sAuditApp) -> str:
    """The findings count line as drawn, without its padding."""
    return app.screen.query_one("#findings-count").render_line(0).text.strip()


async def test_the_findings_count_fits_80_columns_with_waived_findings_and_filters(tmp_path: Path) -> None:
    """Shown, failing and waived are always there; the word "findings" and the sort (the
    header's arrow says it) give way, in that order, when the line would be cut."""
    (tmp_path / ".k8saudit.toml").write_text(
        '[[waiver]]\ncheck = "RBAC-001"\nreason = "accepted"\nowner = "team"\nexpires = "2099-01-01"\n'
    )
    app = demo_app(WaiverOptions(cwd=tmp_path))
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_findings(pilot, app)
        room = SMALL[0] - 2  # the terminal, less the line's padding

        async def count_says(keys: tuple[str, ...], *parts: str) -> str:
            await pilot.press(*keys)
            await pilot.pause()
            shown = [app.index.findings[i] for i in screen.rows_shown]
            open_ = sum(1 for f in shown if f.status.is_problem and not f.waived)
            waived = sum(1 for f in shown if f.status.is_problem and f.waived)
            line = drawn_count(app)
            assert len(line) <= room and not line.endswith("…"), line
            assert line.startswith(f"{len(shown):,} of {len(app.index.findings):,} ·"), line
            assert f" · {open_:,} failing or warning (+{waived:,} waived)" in line, line
            for part in parts:
                assert part in line, line
            return line

        await count_says((), "status, failing first")
        await count_says(("S", "S"), "severity, least severe first")  # the longest order
        await count_says(("slash", *"admin", "enter"))  # a text filter
        await count_says(("v", "down", "enter"))  # and a severity filter


def test_the_findings_count_keeps_its_numbers_at_any_size() -> None:
    from screens.findings import count_lines
    from screens.findings_index import SortOrder
    from screens.text import FirstThatFits

    count = FirstThatFits(
        *count_lines(123_456, 1_234_567, 12_345, 23_456, SortOrder("severity", reverse=True))
    )
    assert count.line(200) == (
        "123,456 of 1,234,567 findings · 12,345 failing or warning (+23,456 waived)"
        " · severity, least severe first"
    )
    assert count.line(78) == "123,456 of 1,234,567 · 12,345 failing or warning (+23,456 waived)"
    assert count.line(50) == "123,456/1,234,567 · 12,345 fail/warn +23,456 waived"
    assert count.line(100) == count.line(200).replace(" findings", "")


def test_crumbs_that_do_not_fit_give_way_from_the_first() -> None:
    from screens.base import fitted_crumbs

    crumbs = [
        "shop-prod",
        "Overview",
        "Findings",
        "VER-006",
        "Node ip-10-0-1-10.eu-central-1.compute.internal",
    ]
    assert fitted_crumbs(crumbs, 0) == crumbs, "width unknown: all of them"
    assert fitted_crumbs(crumbs, 200) == crumbs
    fitted = fitted_crumbs(crumbs, 70)
    assert fitted == ["…", "VER-006", crumbs[-1]]
    assert sum(3 + len(c) for c in fitted) <= 70
    tight = fitted_crumbs(crumbs, 30)
    assert tight[0] == "…" and tight[-1].startswith("Node ip-10") and tight[-1].endswith("…")
    assert sum(3 + len(c) for c in tight) <= 30


async def test_the_top_bar_keeps_the_last_crumb_on_its_line_at_80_columns() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_overview(pilot, app)
        node = next(i for i, f in enumerate(app.index.findings) if f.subject.kind == "Node")
        app.open_finding(node)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail")
        subject = app.index.findings[node].subject
        app.open_subject(subject)
        await wait_for(pilot, lambda: not isinstance(app.screen, DetailScreen), "the resource")
        await pilot.pause()
        line = str(app.screen.query_one("TopBar").build())
        assert len(line) <= 80 and subject.name[:20] in line, line


# -- 7. the evidence is folded once, at the width of its pane -------------------------------------


def drawn_lines(widget) -> list[str]:
    """What `widget` draws, every line of it (scrolled into view or not), without its padding."""
    width, height = widget.outer_size
    left = widget.styles.padding.left
    return [strip.text[left:].rstrip() for strip in widget.render_lines(Region(0, 0, width, height))]


def folded_groups(yaml_lines: list[str], drawn: list[str]) -> list[list[str]]:
    """`drawn` cut into one group of lines per YAML line: a line and its continuations, which
    together hold its text (the spaces where it was folded aside)."""
    groups, rest = [], list(drawn)
    for line in yaml_lines:
        want, group = "".join(line.split()), [rest.pop(0)]
        while len("".join("".join(group).split())) < len(want):
            group.append(rest.pop(0))
        assert "".join("".join(group).split()) == want, f"{line!r} drawn as {group!r}"
        groups.append(group)
    assert not rest, f"drawn past the evidence: {rest!r}"
    return groups


@pytest.mark.parametrize("size", [SMALL, (101, 30), SIZE])
async def test_evidence_is_folded_once_at_its_panes_width(size: tuple[int, int]) -> None:
    """Each long value folds under its key where the next word would not fit, and nowhere else:
    no line is wrapped a second time by the widget (a ragged stub at the left edge)."""
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await open_overview(pilot, app)
        position = next(i for i, f in enumerate(app.index.findings) if f.check_id == "ING-004")
        app.open_finding(position)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail")
        await pilot.press("tab", "end")
        await pilot.pause()
        evidence = app.screen.query_one("#detail-evidence", Static)
        width = evidence.content_size.width
        yaml_lines = to_yaml(app.index.findings[position].evidence).split("\n")
        groups = folded_groups(yaml_lines, drawn_lines(evidence))
        assert any(len(group) > 1 for group in groups), "some value is folded at this width"
        for line, group in zip(yaml_lines, groups, strict=True):
            indent = len(line) - len(line.lstrip(" -"))
            for before, after in itertools.pairwise(group):
                assert len(after) - len(after.lstrip()) > indent, f"{after!r} is not under its key"
                next_word = after.split()[0]
                assert len(before) == width or len(before) + 1 + len(next_word) > width, (
                    f"folded early: {before!r} had room for {next_word!r} ({width} columns)"
                )


def footer_keys(app: K8sAuditApp) -> list[str]:
    """The keys the footer of the screen shown (or of the screen under a dialog) lists."""
    screen = next(s for s in reversed(app.screen_stack) if s.query(Footer))
    return [f"{key.key_display} {key.description}" for key in screen.query_one(Footer).query(FooterKey)]


def assert_footer_fits(app: K8sAuditApp, where: str) -> list[str]:
    """The footer is the keys it lists, each whole, the help among them (`?`, or `f1` while a
    text field takes "?"), on one line of the terminal."""
    keys = footer_keys(app)
    line = screen_text(app).rstrip("\n").split("\n")[-1].rstrip()
    assert line == " ".join(keys), f"{where}: a key is cut: {line!r}"
    assert "? Help" in keys or "f1 Help" in keys, where
    return keys


PICKER_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://127.0.0.1:1"}}
- {name: b, cluster: {server: "https://127.0.0.1:2"}}
contexts:
- {name: alpha, context: {cluster: a, user: u}}
- {name: beta, context: {cluster: b, user: u}}
users:
- {name: u, user: {token: not-a-secret}}
"""


async def test_while_a_text_field_has_the_focus_the_footer_lists_keys_that_work(tmp_path: Path) -> None:
    """The picker's filter field takes "?", ":" and "/" as text: the footer offers f1 for the help
    and ^p for the commands instead (it used to show no help and ": Commands"), and f1 works."""
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(PICKER_KUBECONFIG)
    app = make_app(kubeconfig=str(kubeconfig))
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ContextPickerScreen), "the picker")
        await pilot.pause()
        assert isinstance(app.screen.focused, Input), "the filter has the focus"
        assert assert_footer_fits(app, "picker, in the filter") == ["f1 Help", "^p Commands", "esc Back"]

        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        assert re.search(r"\? f1 +Help: every key", screen_text(app)), "the help names both keys"
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextPickerScreen), "the help to close")
        assert app.screen.query_one(Input).value == "", "f1 typed nothing into the filter"

        await pilot.press("escape")  # to the table: every key acts again
        await pilot.pause()
        keys = assert_footer_fits(app, "picker, in the table")
        assert keys[:3] == ["/ filter", "? Help", ": Commands"] and "f1 Help" not in keys


async def test_every_footer_at_80_columns_lists_whole_keys_and_help(tmp_path: Path) -> None:
    """At 80 columns the keys that do not fit are left out whole, the last first, `?` never
    (the comparison's footer used to end in "o Overview f F"); at 160 all of them are there."""
    old_path = save(demo_variant(fixed=False), tmp_path / "old.json.gz")
    new_path = save(demo_variant(fixed=True), tmp_path / "new.json.gz")
    app = make_app(snapshot=new_path, waivers=WaiverOptions(cwd=tmp_path), debounce_s=0.0)
    async with app.run_test(size=SMALL) as pilot:
        await open_overview(pilot, app)
        assert_footer_fits(app, "overview")
        for keys, where in (
            (["f"], "findings"),
            (["enter"], "detail"),
            (["enter"], "resource"),
            (["o", "ctrl+w"], "waivers"),
            (["escape", "f", "w"], "waiver dialog"),
        ):
            await pilot.press(*keys)
            await pilot.pause()
            assert_footer_fits(app, where)
        await pilot.press("escape", "o", "d")
        app.screen.query_one(Input).value = str(old_path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the comparison")
        await pilot.pause()
        keys = assert_footer_fits(app, "comparison")
        assert keys[:4] == ["1 new", "2 resolved", "3 changed", "4 unchanged"], "its own keys come first"

        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        assert assert_footer_fits(app, "comparison at 160")[-1] == "q Quit", "nothing is left out"


async def test_the_fleet_footer_at_80_columns_lists_whole_keys(tmp_path: Path) -> None:
    save(demo_variant(fixed=True), tmp_path / "shop-prod.json.gz")
    app = make_app(fleet=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        await pilot.pause()
        assert_footer_fits(app, "fleet")

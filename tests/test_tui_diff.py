"""The comparison in the TUI: `d`, a snapshot path, and the same diff `k8saudit diff` prints, with
the resolved and new findings navigable (a resolved one opens in the old report)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from k8saudit.diff import CHANGED, FindingChange, ScoreDelta, diff_reports
from k8saudit.model import Finding, Status, Subject
from k8saudit.snapshot import save
from screens.detail import DetailScreen
from screens.dialogs import PathDialog
from screens.diff import ChangeRows, DiffScreen, delta_text
from screens.findings_index import FindingsIndex
from screens.jobs import WaiverOptions
from screens.overview import OverviewScreen
from screens.resource import ResourceScreen
from screens.table import RowTable
from screens.waivers import WaiverDialog
from tests.test_tui_review import SMALL, row_text, visible
from tests.tui_support import (
    FIXED_BINDING,
    INTRODUCED_BINDING,
    SIZE,
    demo_variant,
    make_app,
    open_dialog,
    sample_old_report,
    sample_report,
    screen_text,
    type_at_once,
    wait_for,
)


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> tuple[Path, Path]:
    """(older, newer): the demo a week before, and the demo with jenkins-admin fixed and
    argo-admin introduced."""
    directory = tmp_path_factory.mktemp("diff")
    old = save(demo_variant(fixed=False), directory / "shop-prod-old.json.gz")
    new = save(demo_variant(fixed=True), directory / "shop-prod-new.json.gz")
    return old, new


async def open_diff(pilot, app, other: Path) -> DiffScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
    await pilot.press("d")
    assert isinstance(app.screen, PathDialog)
    app.screen.query_one(Input).value = str(other)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the comparison")
    screen = app.screen
    assert isinstance(screen, DiffScreen)
    return screen


def rows(changes) -> list[tuple[str, str]]:
    return [(c.finding.check_id, c.finding.subject.name) for c in changes]


async def test_diff_from_the_newer_report_navigates_to_resolved_and_new_findings(snapshots) -> None:
    old_path, new_path = snapshots
    app = make_app(snapshot=new_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(pilot, app, old_path)
        shown = app.report
        assert screen.current_is_new and screen.diff.new is shown, "the shown report is the newer one"
        assert ("RBAC-001", FIXED_BINDING) in rows(screen.diff.resolved)
        assert ("RBAC-001", INTRODUCED_BINDING) in rows(screen.diff.new_findings)
        # the same comparison the CLI makes, evaluated the same way
        expected = diff_reports(screen.old_index.report, shown)
        assert rows(screen.diff.new_findings) == rows(expected.new_findings)
        assert rows(screen.diff.unchanged) == rows(expected.unchanged)
        assert screen.diff.objects["ClusterRoleBinding"].added == [("", INTRODUCED_BINDING)]

        text = screen_text(app)
        assert "OLD shop-prod  collected 2026-11-13 08:00 UTC" in text and old_path.name in text
        assert "NEW shop-prod  collected 2026-11-20 08:00 UTC" in text and "the report shown" in text
        assert "7 days apart; the older one is OLD." in text
        assert f"1 New findings ({len(screen.diff.new_findings)})" in text
        assert f"2 Resolved ({len(screen.diff.resolved)})" in text
        overall = screen.diff.overall
        assert f"{overall.old:5.1f} → {overall.new:5.1f}" in text

        # a resolved finding opens in the OLD report (that is where it still fails)
        await pilot.press("2")
        resolved = screen.query_one("#diff-resolved", RowTable)
        assert resolved.has_focus
        position = rows(screen.diff.resolved).index(("RBAC-001", FIXED_BINDING))
        await pilot.press("home", *(["down"] * position), "enter")
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        assert detail.index is screen.old_index and detail.label == "old snapshot"
        finding = detail.index.findings[detail.finding]
        assert (finding.check_id, finding.subject.name, finding.status.value) == (
            "RBAC-001",
            FIXED_BINDING,
            "fail",
        )
        text = screen_text(app)
        assert "RBAC-001 (old snapshot)" in text and "From the old snapshot" in text
        # and its object is the one collected then
        await pilot.press("enter")
        assert isinstance(app.screen, ResourceScreen) and app.screen.index is screen.old_index
        assert f"name: {FIXED_BINDING}" in screen_text(app)
        await pilot.press("escape", "escape")
        assert app.screen is screen

        # a new finding opens in the shown report
        await pilot.press("1")
        position = rows(screen.diff.new_findings).index(("RBAC-001", INTRODUCED_BINDING))
        await pilot.press("home", *(["down"] * position), "enter")
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.index is app.index and detail.label is None
        assert detail.index.findings[detail.finding].subject.name == INTRODUCED_BINDING
        await pilot.press("escape")

        # the objects added and removed, each openable in its own report
        await pilot.press("5")
        objects = screen.query_one("#diff-objects", RowTable)
        assert objects.has_focus
        added = next(i for i, (word, _, s) in enumerate(screen.objects) if word == "added" and s)
        await pilot.press("home", *(["down"] * added), "enter")
        assert isinstance(app.screen, ResourceScreen) and app.screen.index is screen.new_index
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, OverviewScreen)


async def test_the_older_report_shown_is_the_old_side(snapshots) -> None:
    old_path, new_path = snapshots
    app = make_app(snapshot=old_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(pilot, app, new_path)
        assert not screen.current_is_new and screen.diff.old is app.report
        assert ("RBAC-001", FIXED_BINDING) in rows(screen.diff.resolved), "old/new by collection time"
        text = screen_text(app)
        assert "OLD shop-prod  collected 2026-11-13" in text and "the report shown" in text
        # a new finding is in the other (newer) snapshot: its detail says so
        await pilot.press("1")
        position = rows(screen.diff.new_findings).index(("RBAC-001", INTRODUCED_BINDING))
        await pilot.press("home", *(["down"] * position), "enter")
        assert isinstance(app.screen, DetailScreen) and app.screen.label == "new snapshot"


async def test_a_waiver_written_from_the_comparison_applies_to_both_sides(snapshots, tmp_path: Path) -> None:
    """`w` on a new finding: both reports are evaluated again with the file, like `k8saudit diff`."""
    old_path, new_path = snapshots
    app = make_app(snapshot=new_path, waivers=WaiverOptions(cwd=tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(pilot, app, old_path)
        old_side = screen.old_index
        await pilot.press("1")
        position = rows(screen.diff.new_findings).index(("RBAC-001", INTRODUCED_BINDING))
        await pilot.press("home", *(["down"] * position), "enter")
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        dialog.query_one("#waiver-reason", Input).value = "Argo CD, scoped down in INFRA-90"
        dialog.query_one("#waiver-owner", Input).value = "team-gitops"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.old_index is not old_side, "both sides to be evaluated again")
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.pause()
        introduced = next(c for c in screen.diff.new_findings if c.finding.subject.name == INTRODUCED_BINDING)
        assert introduced.new_status == "fail (waived)", "still new (it did not exist before), now waived"
        assert screen.new_index is app.index and screen.diff.new is app.report
        assert screen.old_index.report.waivers.source == str(tmp_path / ".k8saudit.toml")
        assert "absent → fail (waived)" in screen_text(app)


async def test_comparing_with_a_corrupt_file_is_one_error_line(tmp_path: Path, snapshots) -> None:
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json")
    app = make_app(snapshot=snapshots[1])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        dialog = await open_dialog(pilot, app, "d", PathDialog)
        dialog.query_one(Input).value = str(tmp_path / "missing.json")
        await pilot.press("enter")
        assert isinstance(app.screen, PathDialog), "a missing file is refused in the dialog"
        assert "No such file" in screen_text(app)
        dialog.query_one(Input).value = str(corrupt)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app._notifications), "the error")
        messages = [n.message for n in app._notifications]
        assert any("corrupt" in m and "\n" not in m for m in messages), messages
        assert isinstance(app.screen, OverviewScreen)


async def test_a_file_name_typed_after_the_folder_offered_completes_the_path(snapshots) -> None:
    """`d` offers the shown snapshot's folder: the name typed at once after it is appended to it
    (the folder used to be selected, and the first key typed replaced it: "No such file")."""
    old_path, new_path = snapshots
    app = make_app(snapshot=new_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        dialog = await open_dialog(pilot, app, "d", PathDialog)
        assert dialog.query_one(Input).value == f"{new_path.parent}/"
        type_at_once(app, *old_path.name, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the comparison")
        assert old_path.name in screen_text(app)


async def test_scans_seconds_apart_show_their_seconds_and_how_many_apart(tmp_path: Path) -> None:
    """Two scans in the same minute read "08:00" twice and "less than a minute apart"."""
    report = demo_variant(fixed=True)  # collected at 08:00:00
    for seconds, name in ((8, "first.json.gz"), (42, "second.json.gz")):
        report.collection.started_at += timedelta(seconds=seconds)
        report.collection.finished_at += timedelta(seconds=seconds)
        save(report, tmp_path / name)
    app = make_app(snapshot=tmp_path / "second.json.gz")
    async with app.run_test(size=SMALL) as pilot:
        await open_diff(pilot, app, tmp_path / "first.json.gz")
        text = screen_text(app)
        assert "OLD shop-prod  collected 2026-11-20 08:00:08 UTC" in text
        assert "NEW shop-prod  collected 2026-11-20 08:00:50 UTC" in text
        assert "42 seconds apart; the older one is OLD." in text


def test_diff_screen(snap_compare) -> None:
    """Synthetic reports a week apart: new, resolved, changed and unchanged findings, objects."""
    old, new = sample_old_report(), sample_report()
    app = make_app(report=new)

    async def compare(pilot) -> None:
        await pilot.pause()
        old_index = FindingsIndex(old)
        screen = DiffScreen(
            diff_reports(old, new), old_index, app.index, Path("snapshots/prod-week-46.json"), True
        )
        app.push_screen(screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=compare)


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        (63.96, 63.94, ("-0.1 ▼", "delta-down")),  # 64.0 → 63.9, though only 0.02 apart
        (63.86, 63.94, ("±0.0", "delta-none")),  # 63.9 → 63.9: no arrow, though 0.08 apart
        (None, 63.94, ("n/a", "delta-none")),
    ],
)
def test_score_change_is_the_difference_of_the_scores_shown(old, new, shown) -> None:
    assert delta_text(ScoreDelta("rbac", old, new, "D", "D")) == shown


def test_a_problem_no_longer_visible_shows_as_unknown_with_the_reason() -> None:
    before = Finding("RES-001", Status.FAIL, Subject("CronJob", "ci", "cleanup"), "runs every 1m", {})
    unseen = FindingChange(CHANGED, before, None, None, "CronJob could not be read (forbidden)")
    row = ChangeRows([unseen]).row(0)
    assert row.cells[2:] == (
        "fail → unknown",
        "CronJob ci/cleanup",
        "not visible in NEW: CronJob could not be read (forbidden); before: runs every 1m",
    )
    assert row.tones[2] == "unknown", "not coloured as a fix"


# -- every panel of the summary readable at 80x24 and at 160x48, by keyboard alone ----------------


def other_cluster(tmp_path: Path, context: str, server: str | None = None) -> Path:
    """The fixed demo as scanned through another context (and server): the comparison notes it."""
    report = demo_variant(fixed=True, context=context)
    if server is not None:
        report.inventory.cluster.server = server
    return save(report, tmp_path / "other.json.gz")


async def test_at_80x24_the_summary_comes_first_and_tab_brings_each_panel_into_view(snapshots) -> None:
    """One under the other, the panels are taller than the terminal: what is compared shows on
    arrival, tab brings the score panel wholly into view, then the lists; shift+tab goes back."""
    old_path, new_path = snapshots
    app = make_app(snapshot=new_path)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_diff(pilot, app, old_path)
        await pilot.pause()
        body = screen.query_one("#diff-body")
        sides, scores = screen.query_one("#diff-sides"), screen.query_one("#diff-scores")
        assert app.focused is sides and visible(sides, body)
        text = screen_text(app)
        assert "OLD shop-prod  collected 2026-11-13 08:00 UTC" in text
        assert f"{len(screen.diff.unchanged)} unchanged" in text, "its last line too"

        await pilot.press("tab")
        assert app.focused is scores and visible(scores, body)
        text = screen_text(app)
        assert "overall " in text and "resilience " in text, "every line of the scores"

        await pilot.press("tab", "tab")
        assert app.focused is screen.query_one("#diff-new", RowTable)
        await pilot.press("shift+tab", "shift+tab", "shift+tab")
        assert app.focused is sides and visible(sides, body), "and back up to what is compared"


async def test_side_by_side_the_comparing_panel_grows_to_show_every_line(snapshots, tmp_path: Path) -> None:
    """Two clusters: the note saying so made the panel cut its last lines at 160x48."""
    old_path, _ = snapshots
    app = make_app(snapshot=other_cluster(tmp_path, "shop-prod-eu", "https://api.eu.shop.example.com"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(pilot, app, old_path)
        await pilot.pause()
        assert screen.diff.notes and "comparing different clusters" in screen.diff.notes[0]
        sides = screen.query_one("#diff-sides")
        text_widget = screen.query_one("#diff-sides-text")
        assert sides.scrollable_content_region.contains_region(text_widget.region), "nothing cut"
        assert not sides.focusable, "nothing to scroll: tab goes from table to table"
        text = screen_text(app)
        assert "(https://api.eu.shop.example.com)" in text and "comparing different clusters" in text
        assert f"{len(screen.diff.unchanged)} unchanged" in text
        top = screen.query_one("#diff-top")
        assert screen.query_one("#diff-scores").region.height == top.region.height, "one height for the row"

        # the waivers applied again (a waiver written from here): the panels are made anew
        old_side = screen.old_index
        screen.index_replaced(old_side, FindingsIndex(old_side.report))
        await wait_for(pilot, lambda: screen.query_one("#diff-sides-text") is not text_widget, "the rebuild")
        await pilot.pause()
        sides, text_widget = screen.query_one("#diff-sides"), screen.query_one("#diff-sides-text")
        assert sides.scrollable_content_region.contains_region(text_widget.region), "still nothing cut"


async def test_side_by_side_a_comparing_text_too_long_for_the_row_is_a_tab_stop_that_scrolls(
    snapshots, tmp_path: Path
) -> None:
    old_path, _ = snapshots
    long_name = "arn:aws:eks:eu-central-1:123456789012:cluster/shop-prod-" + "x" * 40
    server = "https://" + "D" * 32 + ".gr7.eu-central-1.eks.amazonaws.com/" + "p" * 60
    app = make_app(snapshot=other_cluster(tmp_path, long_name, server))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(pilot, app, old_path)
        await pilot.pause()
        sides = screen.query_one("#diff-sides")
        assert sides.max_scroll_y > 0, "longer than the row"
        assert screen.query_one("#diff-top").region.height < SIZE[1] // 2, "the lists keep their room"
        assert app.focused is screen.query_one("#diff-new", RowTable)
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is sides
        counts = f"{len(screen.diff.unchanged)} unchanged"
        assert counts not in screen_text(app)
        await pilot.press("end")
        await wait_for(pilot, lambda: sides.scroll_y == sides.max_scroll_y, "the panel scrolled to its end")
        assert counts in screen_text(app)


async def test_at_the_narrowest_side_by_side_the_objects_show_their_names(snapshots) -> None:
    """At 140 columns the objects panel has 30 cells: the kind took them all, the names none."""
    old_path, new_path = snapshots
    app = make_app(snapshot=new_path)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await open_diff(pilot, app, old_path)
        objects = screen.query_one("#diff-objects", RowTable)
        first = row_text(objects, 0)
        assert "added" in first and "Clus" in first and INTRODUCED_BINDING in first, first

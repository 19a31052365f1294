"""Text wider than its pane is reached, never lost: the resource YAML and a remediation's command
scroll sideways, and the cut cells of a table move left under → like `less -S`."""

from __future__ import annotations

from textual.app import App, ComposeResult

from screens.detail import DetailScreen, ScrollingFence
from screens.resource import ResourceScreen
from screens.table import Column, ListSource, Row, RowTable, shifted
from tests.test_tui_review import SMALL, demo_app, open_overview, row_text
from tests.tui_support import wait_for


def finding_of(app, check_id: str) -> int:
    return next(i for i, f in enumerate(app.index.findings) if f.check_id == check_id)


async def test_the_resource_yaml_scrolls_sideways_to_the_end_of_a_long_line() -> None:
    app = demo_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_overview(pilot, app)
        app.open_subject(app.index.findings[finding_of(app, "ING-004")].subject)
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), "the resource view")
        await pilot.pause()
        pane = app.screen.query_one("#resource-yaml")
        assert app.focused is pane and pane.max_scroll_x > 0, "its longest line is wider than the pane"
        await pilot.press("end")  # the container's own keys: end goes down, then right
        await pilot.press("right", "right")
        await wait_for(pilot, lambda: pane.scroll_x > 0, "the pane scrolled right")


async def test_a_command_wider_than_the_detail_is_a_tab_stop_that_scrolls_sideways() -> None:
    app = demo_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_overview(pilot, app)
        app.open_finding(finding_of(app, "ING-004"))  # its fix is a long helm command
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail")
        await pilot.pause()
        fences = list(app.screen.query(ScrollingFence))
        assert fences and all(fence.max_scroll_x > 0 for fence in fences)
        await pilot.press("shift+tab")  # from the subjects table back to the command
        fence = app.focused
        assert isinstance(fence, ScrollingFence) and "--reuse-values" in fence.code
        await pilot.press("end")
        assert fence.scroll_x == fence.max_scroll_x
        await pilot.press("home")
        assert fence.scroll_x == 0


async def test_a_command_that_fits_is_no_tab_stop() -> None:
    app = demo_app()
    async with app.run_test(size=(200, 48)) as pilot:
        await open_overview(pilot, app)
        app.open_finding(finding_of(app, "ING-004"))
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail")
        await pilot.pause()
        fence = app.screen.query_one(ScrollingFence)
        assert fence.max_scroll_x == 0 and not fence.focusable


def test_shifted_drops_the_first_cells_and_says_so() -> None:
    assert shifted("ingress-nginx v1.9.4", 0) == "ingress-nginx v1.9.4"
    assert shifted("ingress-nginx v1.9.4", 8) == "…nginx v1.9.4"
    assert shifted("名前空間の名前", 4) == "…空間の名前", "wide characters count two cells"
    assert shifted("short", 8) == ""


MESSAGE = "ingress-nginx v1.9.4 is affected by 12 advisories, including CVE-2025-1974 (IngressNightmare)"


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield RowTable(
            (Column("check", "Check", width=9), Column("message", "Message")),
            ListSource([Row(("ING-004", MESSAGE)), Row(("ING-005", "short"))]),
        )


async def test_right_shows_the_cut_end_of_a_message_and_left_its_start_again() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(RowTable)
        table.focus()
        await pilot.pause()
        assert "ING-004" in row_text(table, 0) and "(IngressNightmare)" not in row_text(table, 0)
        for _ in range(20):  # more than needed: it stops at the end of the longest cut cell
            await pilot.press("right")
        assert row_text(table, 0).rstrip().endswith("(IngressNightmare)")
        assert "ING-004" in row_text(table, 0), "fixed columns stay where they are"
        assert row_text(table, 1).strip() == "ING-005", "a short cell is scrolled out of sight"
        farthest = table.text_shift
        await pilot.press("right")
        assert table.text_shift == farthest
        await pilot.press("h")
        assert table.text_shift < farthest
        for _ in range(20):
            await pilot.press("left")
        assert table.text_shift == 0 and "ingress-nginx v1.9" in row_text(table, 0)


async def test_right_on_rows_shorter_than_the_shift_never_moves_the_text_back() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(RowTable)
        table.focus()
        await pilot.press(*["right"] * 3)
        shift = table.text_shift
        table.set_source(ListSource([Row(("ING-004", "short")), Row(("ING-005", MESSAGE))]))
        assert table.text_shift == 0, "new rows start at their beginning"
        await pilot.press(*["right"] * 3)
        assert table.text_shift == shift
        table.source = ListSource([Row(("ING-004", "short"))])  # what is on screen got shorter
        await pilot.press("right")
        assert table.text_shift == shift

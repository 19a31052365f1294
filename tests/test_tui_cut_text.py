"""Text wider than its pane is reached, never lost: the resource YAML and a remediation's command
scroll sideways, and → pages on through the cut cells of a table."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from screens.detail import DetailScreen, ScrollingFence
from screens.resource import ResourceScreen
from screens.table import MAX_CELL_CHARS, Column, ListSource, Row, RowTable, _cell_text, paged, pages_to_end
from tests.test_tui_review import SMALL, demo_app, header_text, open_overview, row_text
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
        body = app.screen.query_one("#detail-body")
        unfocused = body.styles.border_top, fences[0].styles.background
        await pilot.press("shift+tab")  # from the subjects table back to the command
        fence = app.focused
        assert isinstance(fence, ScrollingFence) and "--reuse-values" in fence.code
        assert (body.styles.border_top, fence.styles.background) != unfocused, "where the focus is shows"
        assert body.styles.border_top[1] != unfocused[0][1] and fence.styles.background != unfocused[1]
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


def test_paged_shows_every_character_of_a_cut_cell_page_by_page_and_stops_at_its_end() -> None:
    text = "abcdefghijklmnopqrst"  # 20 cells in 10
    assert paged(text, 10, 0) == "abcdefghi…"
    assert paged(text, 10, 1) == "…jklmnopq…", "the next 8 between two …"
    assert paged(text, 10, 2) == paged(text, 10, 9) == "…lmnopqrst", "the last page shows the end"
    assert pages_to_end(text, 10) == 2
    assert paged("fits", 10, 3) == "fits      " and pages_to_end("fits", 10) == 0
    assert paged("Schedule is paused", 3, 1) == "…h…", "a 3-cell column pages one character at a time"
    assert paged("名前空間の名前です", 8, 0) == "名前空 …" and paged("名前空間の名前です", 8, 1) == "…間の名…"
    assert paged("名前空間の名前です", 3, 0) == "名…" and paged("名前空間の名前です", 3, 1) == "…前"


def page_contents(text: str, width: int) -> list[str]:
    pages = [paged(text, width, page) for page in range(pages_to_end(text, width) + 1)]
    return [page.removeprefix("…").rstrip(" ").removesuffix("…").rstrip(" ") for page in pages]


@pytest.mark.parametrize("width", range(3, 14))
@pytest.mark.parametrize(
    "text",
    [
        "ingress-nginx_v1.9.4_is_affected_by_12_advisories",
        "一二三四五六七八九十甲乙丙丁",
        "ab名前cd空間ef🙂gh🙂",
    ],
)
def test_every_character_is_on_some_page_in_order(text: str, width: int) -> None:
    *pages, last = page_contents(text, width)
    joined = "".join(pages)
    assert text.startswith(joined) and text.endswith(last), (pages, last)
    assert len(joined) + len(last) >= len(text), f"characters skipped: {pages} {last}"
    assert all(cell_len(paged(text, width, page)) == width for page in range(pages_to_end(text, width) + 2))


def test_a_cell_clipped_for_length_says_there_is_more() -> None:
    row = Row(("x" * (MAX_CELL_CHARS + 50),))
    table = RowTable((Column("message", "Message"),), ListSource([row]))
    assert table._row_strip(0, False, 40, table.rich_style).text.rstrip().endswith("…")
    assert paged(_cell_text(row, 0), 40, 99).endswith("x…")


MESSAGE = "ingress-nginx v1.9.4 is affected by 12 advisories, including CVE-2025-1974 (IngressNightmare)"
COLUMNS = (Column("check", "Check", width=9), Column("name", "Name"), Column("message", "Message", ratio=2))


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield RowTable(
            COLUMNS,
            ListSource([Row(("ING-004", "nginx", MESSAGE)), Row(("ING-005", "dns", "short"))]),
        )


async def test_right_pages_the_cut_cells_to_their_end_and_leaves_the_others_in_place() -> None:
    app = OneTable()
    async with app.run_test(size=(46, 6)) as pilot:
        table = app.query_one(RowTable)
        table.focus()
        await pilot.pause()
        first = row_text(table, 0)
        assert "ING-004" in first and "nginx" in first and "(IngressNightmare)" not in first
        assert "…MESSAGE" not in header_text(table)
        for _ in range(20):  # more than needed: it stops at the page that shows the end
            await pilot.press("right")
        first = row_text(table, 0)
        assert first.rstrip().endswith("(IngressNightmare)")
        assert "ING-004" in first and "nginx" in first, "cells that fit stay where they are"
        assert "dns" in row_text(table, 1) and "short" in row_text(table, 1)
        assert "…MESSAGE" in header_text(table) and "…NAME" not in header_text(table)
        last = table.text_page
        await pilot.press("right")
        assert table.text_page == last
        await pilot.press("h")
        assert table.text_page == last - 1
        for _ in range(20):
            await pilot.press("left")
        assert table.text_page == 0 and "ingress-nginx v1.9" in row_text(table, 0)


async def test_rows_on_screen_that_need_fewer_pages_are_never_blank_and_left_answers_at_once() -> None:
    app = OneTable()
    async with app.run_test(size=(46, 6)) as pilot:
        table = app.query_one(RowTable)
        table.focus()
        await pilot.press(*["right"] * 20)
        far = table.text_page
        table.set_source(ListSource([Row(("ING-004", "nginx", "short")), Row(("ING-005", "dns", MESSAGE))]))
        assert table.text_page == 0, "new rows start at their beginning"
        await pilot.press(*["right"] * 20)
        assert table.text_page == far
        table.source = ListSource([Row(("ING-004", "nginx", MESSAGE[:40]))])  # shorter rows now
        table.refresh_rows()
        await pilot.press("right")
        assert table.text_page == far, "right never goes back"
        assert row_text(table, 0).rstrip().endswith(MESSAGE[25:40]), "the cell shows its own end"
        await pilot.press("left")
        assert table.text_page == 0, "one page back from what these rows need: their start"

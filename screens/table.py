"""RowTable: a virtual, keyboard-first table that renders only the rows on screen.

Every table in the app is one of these: findings (tens of thousands of rows), subjects, top
fixes, coverage, scan progress, contexts. Rows come from a `RowSource` (anything with `len()` and
`row(i)`), so a table over 50 000 findings holds one list of indices and builds a line only when
it scrolls into view. Colour comes from CSS component classes named after a *tone*
(`tone-critical`, `tone-fail`, `tone-forbidden`, …) that the .tcss file styles; the words
themselves are always in the cells, so nothing depends on colour.

Cell text is passed through `safe_text` here, at the last moment, and drawn as plain segments:
markup in cluster text is never parsed, escape sequences and bidi controls are shown escaped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import ClassVar, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from k8saudit.textsafe import safe_text
from screens.actions import bindings_for

TONES: tuple[str, ...] = (
    # severities
    "critical",
    "high",
    "medium",
    "low",
    "info",
    # finding statuses
    "fail",
    "warn",
    "error",
    "unknown",
    "pass",
    "not-applicable",
    "waived",
    # coverage and scan states
    "ok",
    "forbidden",
    "not-served",
    "waiting",
    "listing",
    # grades (fleet rows)
    "grade-a",
    "grade-b",
    "grade-c",
    "grade-d",
    "grade-f",
    # everything else
    "dim",
    "points",
    "current",
)
GUTTER = 2  # "› " marks the cursor row, so the cursor is visible without colour
CURSOR_MARK = "›"
MAX_CELL_CHARS = 400  # a cell is one line; longer text is clipped before escaping


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int = 0  # fixed width in cells; 0 = flexible
    ratio: int = 1  # share of the remaining width for flexible columns
    min_width: int = 6
    align: str = "left"  # or "right"
    # 0: always shown. Otherwise the column is left out when the table is too narrow for every
    # column's width (an 80-column terminal), the highest rank first: what it shows is also
    # elsewhere on the screen (the area in the check id, the message in the detail pane).
    drop_rank: int = 0


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[str, ...]
    tones: tuple[str | None, ...] = ()  # per cell, a name from TONES (or None)
    tone: str | None = None  # for the whole row (e.g. "waived", "dim")


class RowSource(Protocol):
    def __len__(self) -> int: ...

    def row(self, index: int) -> Row: ...


class ListSource:
    """A RowSource over a ready list of rows (small tables)."""

    def __init__(self, rows: Sequence[Row] = ()) -> None:
        self.rows = list(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, index: int) -> Row:
        return self.rows[index]


def fit(text: str, width: int, align: str = "left") -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return text.rjust(width - cell_len(text) + len(text)) if align == "right" else set_cell_size(text, width)


def paged(text: str, width: int, page: int) -> str:
    """`text` in `width` cells, `page` pages on when it is cut: each page shows the characters
    after the last page's between a leading and a trailing "…", so every character is seen once,
    and it stops at the page that shows the end. Text that fits never moves."""
    if page <= 0 or cell_len(text) <= width or width < 3:
        return fit(text, width)
    *_, shown = islice(_later_pages(text, width), page)  # past the last page: the last page
    return shown


def pages_to_end(text: str, width: int) -> int:
    """How many pages on (`paged`) the end of `text` is in `width` cells (0: it fits)."""
    if cell_len(text) <= width or width < 3:
        return 0
    return sum(1 for _ in _later_pages(text, width))


def _later_pages(text: str, width: int) -> Iterator[str]:
    """The pages after the first (`fit`'s) of a cut `text` in `width` (3 or more) cells."""
    sizes = [cell_len(char) for char in text]
    start = _fitting(sizes, 0, width - 1)
    remaining = sum(sizes[start:])
    while start < len(text):
        if 1 + remaining <= width:  # the last page: "…" and as much of the end as fits
            yield set_cell_size("…" + text[_tail_start(sizes, width - 1) :], width)
            return
        # At least one character a page: a wide one alone in a 3-cell column fills it whole.
        end = max(start + 1, _fitting(sizes, start, width - 2))
        used = sum(sizes[start:end])
        piece = "…" + text[start:end]
        yield set_cell_size(piece, width - 1) + "…" if 1 + used < width else set_cell_size(piece, width)
        remaining -= used
        start = end


def _tail_start(sizes: list[int], cells: int) -> int:
    """Where the last characters that fit in `cells` cells start."""
    start, used = len(sizes), 0
    while start > 0 and used + sizes[start - 1] <= cells:
        start -= 1
        used += sizes[start]
    return start


def _fitting(sizes: list[int], start: int, cells: int) -> int:
    """Where the characters from `start` that fit in `cells` cells end."""
    end, used = start, 0
    while end < len(sizes) and used + sizes[end] <= cells:
        used += sizes[end]
        end += 1
    return end


def _cell_text(row: Row, column: int) -> str:
    """The text a row shows in a column: one line, clipped, inert in a terminal."""
    text = row.cells[column] if column < len(row.cells) else ""
    if len(text) > MAX_CELL_CHARS:  # the last page ends in "…": there is more (the detail has it)
        return safe_text(text[:MAX_CELL_CHARS], None) + "…"
    return safe_text(text, None)


def _with_arrow(label: str, arrow: str, width: int) -> str:
    """A header label with its sort arrow in `width` cells: "SCORE ▲", or cut to "CRI▼"."""
    if cell_len(label) + 2 <= width:
        return f"{label} {arrow}"
    return set_cell_size(label, max(0, width - 1)) + arrow


def column_widths(columns: Sequence[Column], total: int) -> list[int]:
    """Widths for `columns` in `total` cells (single-space gaps between them), 0 for a column
    dropped because the table is too narrow for all of them.

    Fixed columns keep their width; flexible ones share the rest by ratio, each at least its
    `min_width` when there is room. When there is not, droppable columns go first (highest
    `drop_rank`, the rightmost of a rank first), then the flexible ones shrink below their
    minimum: every column that is drawn fits, the last one included."""
    shown = _columns_that_fit(columns, total)
    widths = [0] * len(columns)
    flexible = [i for i in shown if not columns[i].width]
    spare = max(0, total - sum(columns[i].width for i in shown) - (len(shown) - 1))
    ratios = sum(columns[i].ratio for i in flexible) or 1
    roomy = spare >= sum(columns[i].min_width for i in flexible)
    for i in shown:
        column = columns[i]
        share = spare * column.ratio // ratios
        widths[i] = column.width or (max(column.min_width, share) if roomy else max(1, share))
    if flexible:  # the last flexible column takes the rounding remainder, or gives back the excess
        last = flexible[-1]
        widths[last] = max(1, widths[last] + total - (len(shown) - 1) - sum(widths))
    return widths


def _columns_that_fit(columns: Sequence[Column], total: int) -> list[int]:
    """The positions of the columns kept: all, unless their fixed and minimum widths need more
    than `total` cells; then droppable ones are left out until they fit (or none is left)."""
    kept = list(range(len(columns)))

    def needed() -> int:
        return sum(columns[i].width or columns[i].min_width for i in kept) + len(kept) - 1

    while needed() > total:
        droppable = [i for i in kept if columns[i].drop_rank]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda i: (columns[i].drop_rank, i)))
    return kept


class RowTable(ScrollView, can_focus=True):
    """A virtual table: a header line and the visible rows of a RowSource."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-table--header",
        "row-table--cursor",
        "row-table--cursor-blurred",
        "row-table--empty",
        *(f"tone-{tone}" for tone in TONES),
    }
    BINDINGS = bindings_for("table")

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class _RowMessage(Message):
        def __init__(self, table: RowTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> RowTable:
            return self.table

    class Highlighted(_RowMessage):
        """The cursor moved to a row."""

    class Selected(_RowMessage):
        """`enter` (or a second click) on a row."""

    class HeaderClicked(Message):
        def __init__(self, table: RowTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> RowTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        source: RowSource | None = None,
        *,
        empty_text: str = "Nothing to show.",
        mark_unfocused: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.source: RowSource = source if source is not None else ListSource()
        self.empty_text = empty_text
        # Show the cursor mark even without focus: for a table driven from a filter field.
        self.mark_unfocused = mark_unfocused
        self.sort_column: str | None = None
        self.sort_descending = False
        self._built: set[int] = set()  # rows whose line was built since the last set_source
        self._cache: dict[tuple[int, bool, bool, int], Strip] = {}
        self._widths: list[int] = []
        self._widths_for = -1  # the content width `_widths` were computed for
        # Which page of their cut cells the flexible columns show (0: their start; `paged`).
        self.text_page = 0

    # -- data ---------------------------------------------------------------------------------

    def on_unmount(self) -> None:
        # Removed with its screen: its rows may lead to a whole report (screens.base explains
        # why a removed widget must let go of it).
        self.source = ListSource()
        self._cache.clear()

    def set_source(self, source: RowSource, cursor: int | None = None) -> None:
        """Show `source`; keep the cursor where it was (clamped) unless told otherwise."""
        self.source = source
        self.text_page = 0
        self._built.clear()
        self._cache.clear()
        self._update_virtual_size()
        target = self.cursor if cursor is None else cursor
        self.cursor = max(0, min(target, len(source) - 1))
        self.refresh()

    def refresh_rows(self) -> None:
        """The source's rows changed in place (a scan row got a new page count)."""
        self._cache.clear()
        self._update_virtual_size()
        self.refresh()

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Lay the rows out in `columns` from now on (a width that follows what the rows hold)."""
        self.columns = list(columns)
        self._widths_for = -1
        self._cache.clear()
        self.refresh()

    def set_sort(self, column: str | None, descending: bool = False) -> None:
        self.sort_column, self.sort_descending = column, descending
        self.refresh()

    @property
    def rows_rendered(self) -> int:
        """How many distinct rows were drawn since the last `set_source` (tests and benches)."""
        return len(self._built)

    @property
    def row_count(self) -> int:
        return len(self.source)

    @property
    def page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """For `height: auto`: the header plus every row (CSS max-height clamps it)."""
        return max(2, len(self.source) + 1)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.source) + 1)

    # -- cursor -------------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.source) - 1)) if len(self.source) else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        if self.has_focus:  # in a screen that scrolls (the overview at 80x24): bring it into view
            self.scroll_visible(animate=False)
        self.refresh()
        if len(self.source):
            self.post_message(self.Highlighted(self, new))

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self.page_rows:
            self.scroll_to(y=self.cursor - self.page_rows + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_page_down(self) -> None:
        self.cursor += self.page_rows

    def action_page_up(self) -> None:
        self.cursor -= self.page_rows

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.source) - 1

    def action_page_text(self, pages: int) -> None:
        """Page the cut cells of the flexible columns on (pages > 0) or back, up to the page
        that shows the end of the longest cut cell on screen; cells that fit stay put."""
        needed = max(self._pages_needed().values(), default=0)
        page = self.text_page + pages
        # Never past the last page the rows on screen need, and right never goes back (rows
        # scrolled to may need fewer pages); left starts from what they need.
        page = min(page, max(self.text_page, needed)) if pages > 0 else min(page, needed - 1)
        page = max(0, page)
        if page != self.text_page:
            self.text_page = page
            self._cache.clear()
            self.refresh()

    def _pages_needed(self) -> dict[int, int]:
        """For each flexible column with a cut cell among the rows on screen, the pages to its
        longest cell's end."""
        top = int(self.scroll_y)
        rows = [self.source.row(i) for i in range(top, min(len(self.source), top + self.page_rows))]
        needed: dict[int, int] = {}
        for i, column, width in self._shown_columns():
            if not column.width:
                pages = max((pages_to_end(_cell_text(row, i), width) for row in rows), default=0)
                if pages:
                    needed[i] = pages
        return needed

    def action_select(self) -> None:
        if len(self.source):
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        y = event.y
        if y == 0:
            column = self._column_at(event.x)
            if column is not None:
                self.post_message(self.HeaderClicked(self, column))
            return
        index = int(self.scroll_y) + y - 1
        if 0 <= index < len(self.source):
            if index == self.cursor or event.chain > 1:
                self.cursor = index
                self.action_select()
            else:
                self.cursor = index

    def _column_at(self, x: int) -> str | None:
        left = GUTTER
        for _, column, width in self._shown_columns():
            if left <= x < left + width:
                return column.key
            left += width + 1
        return None

    # -- layout -------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self._update_virtual_size()

    def _shown_columns(self) -> list[tuple[int, Column, int]]:
        """The columns drawn, left to right: (position in `columns`, column, width in cells)."""
        widths = self._column_widths()
        return [(i, column, widths[i]) for i, column in enumerate(self.columns) if widths[i]]

    def _column_widths(self) -> list[int]:
        """Each column's width in cells (0: dropped), for the width the rows are drawn in now.

        Recomputed whenever that width changes, not only on a resize: a vertical scrollbar
        that appears (more rows than fit) takes a cell without resizing the widget."""
        width = self.scrollable_content_region.width
        if width != self._widths_for:
            self._widths = column_widths(self.columns, width - GUTTER)
            self._widths_for = width
        return self._widths

    # -- rendering ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header_strip(width, base)
        index = int(self.scroll_y) + y - 1
        if not len(self.source):
            if y == 1:
                style = base + self.get_component_rich_style("row-table--empty", partial=True)
                return Strip([Segment(fit("  " + self.empty_text, width), style)], width)
            return Strip.blank(width, base)
        if index >= len(self.source):
            return Strip.blank(width, base)
        on_cursor = index == self.cursor
        key = (index, on_cursor, self.has_focus, width)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._row_strip(index, on_cursor, width, base)
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = strip
        return strip

    def _header_strip(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("row-table--header", partial=True)
        segments = [Segment(" " * GUTTER, style)]
        paged_columns = self._pages_needed() if self.text_page else {}
        for n, (i, column, cell_width) in enumerate(self._shown_columns()):
            label = column.label.upper()
            if i in paged_columns:  # its cut cells are paged on: they do not start at the start
                label = f"…{label}"
            if column.key == self.sort_column:  # the arrow stays when the label is cut to fit
                label = _with_arrow(label, "▼" if self.sort_descending else "▲", cell_width)
            if n:
                segments.append(Segment(" ", style))
            segments.append(Segment(fit(label, cell_width, column.align), style))
        return Strip(segments).adjust_cell_length(width, style)

    def _row_strip(self, index: int, on_cursor: bool, width: int, base: Style) -> Strip:
        self._built.add(index)
        row = self.source.row(index)
        row_style = base
        if row.tone:
            row_style += self._tone(row.tone)
        if on_cursor:
            cursor_class = "row-table--cursor" if self.has_focus else "row-table--cursor-blurred"
            row_style += self.get_component_rich_style(cursor_class, partial=True)
        marked = on_cursor and (self.has_focus or self.mark_unfocused)
        mark = f"{CURSOR_MARK} " if marked else "  "
        segments = [Segment(mark, row_style)]
        for n, (i, column, cell_width) in enumerate(self._shown_columns()):
            if n:
                segments.append(Segment(" ", row_style))
            text = _cell_text(row, i)
            if self.text_page and not column.width:
                text = paged(text, cell_width, self.text_page)
            tone = row.tones[i] if i < len(row.tones) else None
            style = row_style + self._tone(tone) if tone else row_style  # tones set colour only
            segments.append(Segment(fit(text, cell_width, column.align), style))
        return Strip(segments).adjust_cell_length(width, row_style)

    def _tone(self, tone: str) -> Style:
        return self.get_component_rich_style(f"tone-{tone}", partial=True, default=Style())

    def on_focus(self) -> None:
        self.refresh()  # the cursor row looks different with focus (the cache key knows)

    def on_blur(self) -> None:
        self.refresh()

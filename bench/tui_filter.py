"""How long the findings screen takes over 50 000 findings: index, filters, sorts, and a real
keystroke-to-table update through Textual's Pilot (headless).

    PYTHONPATH=. python -m bench.tui_filter [--findings 50000]

Not part of the test suite: numbers depend on the machine. The suite asserts behaviour instead
(tests/test_tui_volume.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

from k8saudit.model import Severity
from screens.findings_index import PROBLEMS, FindingFilter, FindingsIndex, SortOrder
from tests.test_tui_volume import volume_report
from tests.tui_support import SIZE, make_app


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000, result


def bench_index(count: int) -> None:
    report = volume_report(count)
    ms, index = timed(lambda: FindingsIndex(report), repeat=3)
    print(f"index {count:,} findings (once per report, in the worker): {ms:8.1f} ms")
    assert isinstance(index, FindingsIndex)
    index.order("status")
    cases = [
        ("text 'app-4' (full scan)", FindingFilter(text="app-4"), SortOrder()),
        ("text 'team-042 lacks'", FindingFilter(text="team-042 lacks"), SortOrder()),
        (
            "severity high+ and fail/warn",
            FindingFilter(min_severity=Severity.HIGH, status=PROBLEMS),
            SortOrder(),
        ),
        ("no filter, sorted by points", FindingFilter(), SortOrder("points")),
        ("no filter, sorted by subject", FindingFilter(), SortOrder("subject")),
    ]
    for name, flt, sort in cases:
        index._last = None  # measure a full scan, not the narrowing shortcut
        index.order(sort.column)  # first use of a column builds its order once
        ms, shown = timed(
            lambda flt=flt, sort=sort: (setattr(index, "_last", None), index.select(flt, sort))[1]
        )
        print(f"select: {name:<34} {ms:8.1f} ms  -> {len(shown):,} rows")  # type: ignore[arg-type]
    index.select(FindingFilter(text="app-4"))
    ms, shown = timed(lambda: index.select(FindingFilter(text="app-49")), repeat=1)
    print(f"select: narrowing 'app-4' -> 'app-49'      {ms:8.1f} ms  -> {len(shown):,} rows")  # type: ignore[arg-type]
    for column in ("severity", "subject", "message"):
        fresh = FindingsIndex(report)
        ms, _ = timed(
            lambda fresh=fresh, column=column: (fresh._orders.clear(), fresh.order(column)), repeat=3
        )
        print(f"order by {column:<8} (first use, then cached) {ms:8.1f} ms")


async def bench_pilot(count: int) -> None:
    """Keystroke to repaint through Textual (headless). Run for a tiny report too: what does not
    change with the number of findings is Textual's own cost per key (focus, CSS, compositor)."""
    print(f"-- pilot, {count:,} findings")
    app = make_app(report=volume_report(count), debounce_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        start = time.perf_counter()
        await pilot.press("f")
        print(f"pilot: open the findings screen              {(time.perf_counter() - start) * 1000:8.1f} ms")
        screen = app.screen
        await pilot.press("slash", *"app-4")
        timings = []
        for word in ("app-4", "app-49", "team-1", "lacks"):
            screen.query_one("#filter-text").value = word
            start = time.perf_counter()
            await pilot.press("enter")  # applies the filter now and repaints
            timings.append((word, (time.perf_counter() - start) * 1000, len(screen.rows_shown)))
            await pilot.press("slash")
        for word, ms, rows in timings:
            print(f"pilot: enter on filter {word!r:<10} -> repaint   {ms:8.1f} ms  -> {rows:,} rows")
        table = screen.query_one("#findings")
        start = time.perf_counter()
        await pilot.press("escape", "G")
        print(f"pilot: jump to the last row                  {(time.perf_counter() - start) * 1000:8.1f} ms")
        print(f"rows drawn after all that: {table.rows_rendered} (a page is {table.page_rows})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=50_000)
    args = parser.parse_args()
    bench_index(args.findings)
    asyncio.run(bench_pilot(args.findings))
    asyncio.run(bench_pilot(40))


if __name__ == "__main__":
    main()

"""What one terminal-UI session keeps when a snapshot is opened again and again: RSS, Python's
allocated blocks and the inventories still alive after each open (Pilot, headless).

    PYTHONPATH=. python -m bench.tui_reopen bench/out/100k/offline.json.gz [--opens 4]

Each open goes the way `ctrl+o` does (`K8sAuditApp._load_snapshot`), then shows the findings and
one finding's detail, so that every kind of report screen is up when the next report replaces
them. Not part of the test suite: the suite asserts that a replaced report is freed
(tests/test_tui_memory.py); this prints how much memory a session holds on a large snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import sys
import weakref
from pathlib import Path

from screens.app import K8sAuditApp
from screens.overview import OverviewScreen


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


async def session(path: Path, opens: int) -> None:
    app = K8sAuditApp(snapshot=path, cursor_blink=False)
    inventories: list[weakref.ref[object]] = []
    async with app.run_test(size=(160, 48)) as pilot:
        for number in range(1, opens + 1):
            if number > 1:
                shown = app.report
                app._load_snapshot(path)
                while app.report is shown:
                    await pilot.pause(0.05)
                del shown
            while not isinstance(app.screen, OverviewScreen) or app.rechecking is not None:
                await pilot.pause(0.05)
            for key in ("f", "enter"):
                await pilot.press(key)
                await pilot.pause()
            assert app.report is not None
            inventories.append(weakref.ref(app.report.inventory))
            gc.collect()
            alive = sum(ref() is not None for ref in inventories)
            print(
                f"open {number}: RSS {rss_mib():7,.0f} MiB, {sys.getallocatedblocks():12,} blocks, "
                f"{alive} inventor{'y' if alive == 1 else 'ies'} alive",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tui_reopen", description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--opens", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(session(args.snapshot, args.opens))


if __name__ == "__main__":
    main()

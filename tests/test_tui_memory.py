"""A report the UI stops showing is freed. A rescan, or another snapshot opened, must not keep the
previous report and inventory (over a GiB at 100k pods) for the rest of the session.

Why it could: every big build freezes the heap (`k8saudit.heap`), screens are reference cycles
(Textual's nodes point at each other), and a frozen cycle is never collected. A screen alive at
the last freeze and removed later is freed by nothing, with all it refers to."""

from __future__ import annotations

import gc
import weakref

from screens.findings_index import FindingsIndex
from tests.tui_support import SIZE, demo_variant, make_app


async def test_a_replaced_report_and_its_inventory_are_freed() -> None:
    first = demo_variant(fixed=False)
    inventory = weakref.ref(first.inventory)
    app = make_app(report=first)
    del first
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # Every screen that shows a report: findings, a finding's detail, its object's YAML,
        # back, then the waivers in effect.
        for key in ("f", "enter", "enter", "escape", "escape", "escape", "ctrl+w"):
            await pilot.press(key)
            await pilot.pause()
        second = demo_variant(fixed=True)
        # As the load and scan workers do: the new report indexed (the heap frozen) while the
        # screens of the old one are still up.
        app.show_report(second, index=FindingsIndex(second))
        await pilot.pause()
        gc.collect()
        assert inventory() is None, "the replaced report's inventory is still alive"
        assert app.report is second

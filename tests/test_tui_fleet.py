"""The fleet view (`k8saudit open DIR`): one row per snapshot, a corrupt file is a row with its
error, sorting, drilling into a cluster's report and back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import Input

from k8saudit.fleet import FleetEntry
from k8saudit.snapshot import save
from screens.detail import DetailScreen
from screens.dialogs import PathDialog
from screens.findings import FindingsScreen
from screens.fleet import FleetScreen, sort_key
from screens.jobs import WaiverOptions
from screens.overview import OverviewScreen
from screens.table import RowTable
from screens.waivers import WaiverDialog
from tests.test_tui_review import SMALL, header_text, row_text
from tests.tui_support import (
    COLLECTED_AT,
    SIZE,
    build_report,
    demo_variant,
    make_app,
    open_dialog,
    sample_findings,
    sample_inventory,
    sample_report,
    screen_text,
    wait_for,
)


@pytest.fixture
def fleet_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "fleet"
    directory.mkdir()
    save(demo_variant(fixed=True, context="shop-prod"), directory / "shop-prod.json.gz")
    save(demo_variant(fixed=False, context="shop-staging"), directory / "shop-staging.json.gz")
    (directory / "broken.json").write_text('{"format": "k8saudit.snapshot/1", "cluster": ')
    return directory


def contexts(screen: FleetScreen) -> list[str]:
    return [e.context for e in screen.entries]


async def test_fleet_rows_sorting_drill_in_and_back(fleet_dir: Path) -> None:
    app = make_app(fleet=fleet_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        fleet = app.screen
        assert isinstance(fleet, FleetScreen)
        assert len(fleet.entries) == 3
        broken = next(e for e in fleet.entries if e.context == "broken.json")
        assert broken.error is not None and "broken.json is truncated" in broken.error
        assert broken.snapshot == fleet_dir / "broken.json" and broken.collected_at is None
        text = screen_text(app)
        assert "Clusters (3, 2 with a usable report)" in text
        assert "broken.json" in text and "shop-prod" in text and "shop-staging" in text
        assert "│› broken.json" in text and "broken.json is truncated" in text, "the row says why"
        assert contexts(fleet)[0] == "broken.json", "worst first: no report at all"
        prod, staging = (
            next(e for e in fleet.entries if e.context == c) for c in ("shop-prod", "shop-staging")
        )
        assert prod.overall is not None and staging.overall is not None
        assert f"{prod.overall:.1f}" in text and f"{staging.overall:.1f}" in text
        assert prod.collected_at - staging.collected_at == timedelta(days=7)

        # sorting by name, then reversed; by collection time
        await pilot.press("C")
        assert contexts(fleet) == ["broken.json", "shop-prod", "shop-staging"]
        await pilot.press("C")
        assert contexts(fleet) == ["shop-staging", "shop-prod", "broken.json"]
        assert "sorted by cluster name, Z to A" in screen_text(app)
        await pilot.press("D")
        assert contexts(fleet) == ["broken.json", "shop-staging", "shop-prod"], "oldest first, none first"
        assert "sorted by collection time" in screen_text(app)

        # the selected cluster's details; enter on the broken one says why and stays
        await pilot.press("home")
        assert "problem" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is fleet
        assert any("has no report" in n.message for n in app._notifications)

        # drill into shop-prod: the usual screens, above the fleet
        await pilot.press("end", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the cluster's overview")
        assert app.report is not None and app.report.inventory.cluster.context == "shop-prod"
        assert app.report_path == fleet_dir / "shop-prod.json.gz"
        assert "› Fleet › shop-prod › Overview" in screen_text(app)
        await pilot.press("f")
        assert isinstance(app.screen, FindingsScreen)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)

        # esc walks back to the fleet, which forgets the cluster's report
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("escape")
        assert app.screen is fleet and app.report is None
        assert contexts(fleet) == ["broken.json", "shop-staging", "shop-prod"], "the order is kept"
        await pilot.press("s")  # nothing to save on the fleet view
        assert app.screen is fleet

        # and into the other cluster
        await pilot.press("home", "down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the other cluster")
        assert app.report.inventory.cluster.context == "shop-staging"


async def test_a_waiver_written_in_a_cluster_updates_the_fleet(fleet_dir: Path, tmp_path: Path) -> None:
    policy = tmp_path / "waivers.toml"
    policy.write_text("# fleet waivers\n")
    app = make_app(fleet=fleet_dir, waivers=WaiverOptions(str(policy)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        fleet = app.screen
        await pilot.press("C", "down", "enter")  # shop-prod
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "shop-prod")
        index = app.index
        target = next(i for i, f in enumerate(index.findings) if f.status.is_problem and not f.waived)
        app.open_finding(target)
        await pilot.pause()
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        dialog.query_one("#waiver-reason").value = "accepted fleet-wide"
        dialog.query_one("#waiver-owner").value = "platform"
        dialog.query_one("#waiver-scope").selected = 2  # the whole check: every cluster
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.index is not index, "the waiver to apply")
        await wait_for(pilot, lambda: not fleet.loading, "the fleet to reload")
        assert all(e.waived >= 1 for e in fleet.entries if e.ok), "the waiver applies to both clusters"


async def test_the_fleet_judges_waiver_expiry_on_the_apps_day(fleet_dir: Path, tmp_path: Path) -> None:
    """The fleet and a cluster's report agree on which waivers still apply: both use the app's
    clock. This waiver expired long ago by the calendar on the wall, not by the app's clock."""
    policy = tmp_path / "waivers.toml"
    policy.write_text(
        '[[waiver]]\ncheck = "*"\nreason = "r"\nowner = "o"\nexpires = 2001-12-31\n', encoding="utf-8"
    )
    app = make_app(
        fleet=fleet_dir, waivers=WaiverOptions(str(policy)), clock=lambda: COLLECTED_AT.replace(year=2001)
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        usable = [e for e in app.screen.entries if e.ok]
        assert usable and all(e.waived >= 1 for e in usable)


async def test_a_directory_without_snapshots_is_a_startup_error(tmp_path: Path) -> None:
    app = make_app(fleet=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.startup_error is not None, "the failure")
    assert "holds no snapshots" in (app.startup_error or "")
    assert app.return_code == 1


async def test_opening_a_directory_without_snapshots_keeps_the_report_shown(tmp_path: Path) -> None:
    """ctrl+o on an empty directory: one notice, and the report and its screens stay usable."""
    empty = tmp_path / "empty"
    empty.mkdir()
    app = make_app(report=sample_report())
    async with app.run_test(size=SIZE) as pilot:
        shown = app.report
        dialog = await open_dialog(pilot, app, "ctrl+o", PathDialog)
        dialog.query_one(Input).value = str(empty)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.workers, "the fleet load")
        await pilot.pause()
        assert app.report is shown and isinstance(app.screen, OverviewScreen)
        assert "holds no snapshots" in " ".join(str(n.message) for n in app._notifications)
        await pilot.press("f")
        assert isinstance(app.screen, FindingsScreen)


def test_sort_keys_put_the_worst_first() -> None:
    good = FleetEntry.from_report("good", sample_report())
    broken = FleetEntry("broken", error="not scanned")
    assert sorted([good, broken], key=sort_key("overall"))[0] is broken
    assert sorted([good, broken], key=sort_key("critical"))[0] is broken
    with pytest.raises(ValueError):
        sort_key("nonsense")


def fleet_entries() -> list[FleetEntry]:
    """Synthetic rows: two clusters with reports, one corrupt snapshot, one never scanned."""
    prod = sample_report()
    prod.inventory.cluster.context = "prod-eu-1"
    staging_findings = [f for f in sample_findings() if f.check_id != "RBAC-101"]
    staging = build_report(sample_inventory(), staging_findings)
    staging.inventory.cluster.context = "staging-eu-1"
    staging.collection.finished_at = COLLECTED_AT - timedelta(hours=30)
    return [
        FleetEntry.from_report("prod-eu-1", prod, Path("fleet/prod-eu-1.json.gz")),
        FleetEntry.from_report("staging-eu-1", staging, Path("fleet/staging-eu-1.json.gz")),
        FleetEntry(
            "dev-us-2",
            snapshot=Path("fleet/dev-us-2.json.gz"),
            error="fleet/dev-us-2.json.gz is truncated: the gzip stream ends early",
        ),
        FleetEntry("sandbox", error="cannot connect to https://sandbox.example.com: connection refused"),
    ]


def test_fleet_view(snap_compare) -> None:
    app = make_app(fleet="fleet", fleet_entries=fleet_entries())
    assert snap_compare(app, terminal_size=SIZE)


# -- the same cluster scanned again minutes later: rows that tell the scans apart -----------------


@pytest.fixture
def rescanned_dir(tmp_path: Path) -> Path:
    """shop-prod scanned three times minutes apart (as `scan --keep` leaves them), and a corrupt file."""
    directory = tmp_path / "fleet"
    directory.mkdir()
    for minutes in (0, 7, 12):
        report = demo_variant(fixed=True, context="shop-prod")
        report.collection.finished_at += timedelta(minutes=minutes, seconds=minutes)
        save(report, directory / f"k8saudit-shop-prod-{report.collection.finished_at:%Y%m%d-%H%M%S}.json.gz")
    (directory / "broken.json").write_text('{"format": "k8saudit.snapshot/1", "cluster": ')
    return directory


async def rows_oldest_first(app, pilot) -> tuple[RowTable, list[str]]:
    """The fleet table, sorted oldest first, and its rows as drawn."""
    await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
    table = app.screen.query_one("#fleet", RowTable)
    await pilot.press("D")
    return table, [row_text(table, i) for i in range(len(app.screen.entries))]


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "160x48"])
async def test_scans_of_one_cluster_minutes_apart_are_rows_that_differ(rescanned_dir: Path, size) -> None:
    """They showed the same name, grade, scores and date: nothing told them apart."""
    app = make_app(fleet=rescanned_dir)
    async with app.run_test(size=size) as pilot:
        table, rows = await rows_oldest_first(app, pilot)
        scans = [row for row in rows if "shop-prod" in row]
        assert len(scans) == 3 and len(set(scans)) == 3, scans
        for row, minute in zip(scans, ("08:00", "08:07", "08:12"), strict=True):
            assert f"2026-11-20 {minute}" in row, row
        assert all(cell_len(row) <= size[0] - 2 for row in rows), "within the table, nothing off screen"
        assert "COLLECTED" in header_text(table) and "STATUS" in header_text(table)

        # the selected scan's detail: to the second, and which file it is
        await pilot.press("end")
        text = screen_text(app)
        assert "collected  2026-11-20 08:12:12 UTC" in text
        assert "snapshot   k8saudit-shop-prod-20261120-081212.json.gz in " in text


async def test_at_80x24_the_detail_is_one_line_per_fact_and_a_problem_is_whole(rescanned_dir: Path) -> None:
    """A worst finding's long message wrapped over five lines and pushed the others out."""
    app = make_app(fleet=rescanned_dir)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        fleet = app.screen
        await pilot.press("D", "end")
        entry = fleet.highlighted
        assert entry is not None and len(entry.worst) == 3
        lines = screen_text(app).splitlines()
        worst = [line for line in lines if f" {entry.worst[0].severity.upper()} " in line]
        assert len(worst) == 3 and all(line.rstrip().endswith("… │") for line in worst), worst
        assert any(line.startswith("│ failing ") for line in lines)

        await pilot.press("home")  # the corrupt file: why it has no report, every word of it
        assert fleet.highlighted is not None and fleet.highlighted.context == "broken.json"
        text = "".join(screen_text(app).replace("│", "").split())  # the panel's lines, joined
        assert "".join(f"problem {fleet.highlighted.error}".split()) in text


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "160x48"])
async def test_scans_of_one_cluster_seconds_apart_show_their_seconds(tmp_path: Path, size) -> None:
    """Two scans in the same minute read "2026-11-20 08:00" both (only the detail had the
    seconds): the column is then to the second, every row of it, still within the table."""
    directory = tmp_path / "fleet"
    directory.mkdir()
    for seconds in (5, 40):
        report = demo_variant(fixed=True, context="shop-prod")
        report.collection.finished_at += timedelta(seconds=seconds)
        save(report, directory / f"shop-prod-{seconds}.json.gz")
    save(demo_variant(fixed=False, context="shop-staging"), directory / "shop-staging.json.gz")
    app = make_app(fleet=directory)
    async with app.run_test(size=size) as pilot:
        table, rows = await rows_oldest_first(app, pilot)
        assert "2026-11-13 08:00:00" in rows[0] and "shop-staging" in rows[0]
        assert "2026-11-20 08:00:05" in rows[1] and "2026-11-20 08:00:40" in rows[2], rows
        assert all(cell_len(row) <= size[0] - 2 for row in rows), "within the table, nothing off screen"
        assert "STATUS" in header_text(table) and all(row.rstrip().endswith("ok") for row in rows), rows


async def test_at_80_columns_the_sort_hint_breaks_between_two_phrases(fleet_dir: Path) -> None:
    """It wrapped mid-phrase: "… D time · click" then "a header for any column"."""
    app = make_app(fleet=fleet_dir)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        for sort in ("S", "P"):  # "failing findings, most critical first" is longer
            await pilot.press(sort)
            await pilot.pause()
            lines = screen_text(app).splitlines()
            start = next(i for i, line in enumerate(lines) if line.startswith(" sorted by "))
            hint = [line.strip() for line in lines[start:-1]]  # up to the footer
            assert len(hint) == 2 and hint[0].endswith(" ·"), hint
            phrases = " ".join(hint).split(" · ")
            assert phrases[1:] == [
                "C name",
                "S score",
                "P findings",
                "D time",
                "click a header for any column",
            ]

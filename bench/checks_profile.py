"""`python -m bench.checks_profile SNAPSHOT... [--repeat N] [--top N]`: where check evaluation goes.

Runs every check over the snapshot's inventory N times, each on a fresh Inventory with the checks'
caches cleared (as in a new process), and prints the fastest total; then each check's own time in
catalog order, cold, the first check to ask for a shared fact (pod templates, exposure index)
paying for it. The cyclic GC is off, as during a scan. For A/B measurements of check changes on
the bench's inventories (`bench/out/100k/inventory.json.gz`), without the rest of the bench.

With several snapshots (`bench/out/1k/… bench/out/10k/…`), the runs alternate between them, one
of each per round, and it prints each one's fastest and median time and their growth from one
to the next: the checks' scaling, measured under the same conditions (a whole bench run times
each size in its own process, minutes apart, and a 40 ms run is mostly noise).
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import sys
import time

from k8saudit import snapshot
from k8saudit.engine import run_check, run_checks
from k8saudit.errors import SnapshotError
from k8saudit.inventory import Inventory
from k8saudit.registry import Config, Context, load_checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checks_profile", description=__doc__)
    parser.add_argument("snapshots", nargs="+", metavar="snapshot")
    parser.add_argument("--repeat", type=int, default=3, help="whole runs; the fastest is printed")
    parser.add_argument("--top", type=int, default=20, help="checks listed, slowest first")
    args = parser.parse_args(argv)
    try:
        loaded = [snapshot.load(path) for path in args.snapshots]
    except SnapshotError as exc:
        print(f"checks_profile: {exc}", file=sys.stderr)
        return 1
    checks = load_checks()
    gc.disable()
    if len(loaded) > 1:
        _print_growth(args.snapshots, _alternated_times(loaded, checks, args.repeat))
        return 0
    [times] = _alternated_times(loaded, checks, args.repeat)
    runs = " ".join(f"{t:.2f}" for t in times)
    print(f"run_checks: {min(times):.2f} s fastest of {args.repeat} ({runs}), {len(checks)} checks")
    inventory = _fresh(loaded[0].inventory)
    context = _context(loaded[0])
    rows = []
    for meta in checks.values():
        started = time.perf_counter()
        count = len(run_check(meta, inventory, context))
        rows.append((time.perf_counter() - started, meta.id, count))
    print(f"each check alone, in catalog order: {sum(r[0] for r in rows):.2f} s")
    for seconds, check_id, count in sorted(rows, reverse=True)[: args.top]:
        print(f"  {check_id:10s} {seconds:6.3f} s  {count:>8,} findings")
    return 0


def _alternated_times(loaded: list[snapshot.Snapshot], checks: dict, repeat: int) -> list[list[float]]:
    """Each snapshot's run_checks times, one run of each per round."""
    times: list[list[float]] = [[] for _ in loaded]
    for _ in range(repeat):
        for one, runs in zip(loaded, times, strict=True):
            inventory, context = _fresh(one.inventory), _context(one)
            started = time.perf_counter()
            findings = run_checks(inventory, context, checks.values())
            runs.append(time.perf_counter() - started)
            del findings
            gc.unfreeze()  # run_checks froze its findings: let them go before the next run
    return times


def _print_growth(paths: list[str], times: list[list[float]]) -> None:
    previous: tuple[float, float] | None = None
    for path, runs in zip(paths, times, strict=True):
        fastest, median = min(runs), statistics.median(runs)
        growth = (
            f"   ×{fastest / previous[0]:.2f} fastest, ×{median / previous[1]:.2f} median" if previous else ""
        )
        print(
            f"{path}: {fastest * 1000:.1f} ms fastest, {median * 1000:.1f} ms median of {len(runs)}{growth}"
        )
        previous = (fastest, median)


def _context(loaded: snapshot.Snapshot) -> Context:
    return Context(now=loaded.collection.finished_at, calendar=loaded.calendar, config=Config())


def _fresh(inventory: Inventory) -> Inventory:
    """The same objects in a new Inventory (no indexes or derived facts yet), caches cleared."""
    for cached in [o for o in gc.get_objects() if isinstance(o, functools._lru_cache_wrapper)]:
        cached.cache_clear()
    return Inventory(
        inventory.objects,
        inventory.coverage,
        inventory.cluster,
        inventory.served_api_versions,
        inventory.applied_api_versions,
    )


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bench.collector_phases [--size 100k] [--rounds 3]`: where the Collector's time goes.

Serves a generated cluster with the replay server in its own process (as `python -m bench`
does), then runs the Collector over it `--rounds` times in this process and prints, per round,
its wall and CPU time and the seconds spent in each stage of keeping a page: decoding it against
the kind's schema, building pod specs from their raw fields (`SpecSharing.build`), redaction,
sharing with the previous sibling (`share_with`), all of `_keep` (redaction and sharing
included), and sharing pod templates after the lists. What is left is reading the pages
(TLS, HTTP, inflating) and the event loop.

The stages are timed by wrapping the collector module's functions, which adds about a
microsecond per call (some 0.3-0.5 s in a round at 100k pods): compare stages with each other
and across code changes, not with the bench's Collector row.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cluster import served_cluster
from bench.sizes import parse_sizes
from k8saudit import collector, siblings
from k8saudit.collector import Collector, CollectorSettings
from k8saudit.connection import connect

STAGES = (
    ("decode", collector, "_list_page"),
    ("build specs", siblings.SpecSharing, "build"),
    ("redact", collector, "redact"),
    ("share_with", collector, "share_with"),
    ("_keep, all", collector.Collector, "_keep"),
    ("share templates", collector, "share_pod_templates"),
)


def _timed(seconds: dict[str, float], stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - started

    return timed


def _instrument(seconds: dict[str, float]) -> None:
    for stage, owner, name in STAGES:
        function = owner.__dict__[name]
        if isinstance(function, staticmethod):
            setattr(owner, name, staticmethod(_timed(seconds, stage, function.__func__)))
        else:
            setattr(owner, name, _timed(seconds, stage, function))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.collector_phases", description=__doc__)
    parser.add_argument("--size", default="100k", help="one of the bench's sizes (default: 100k)")
    parser.add_argument("--rounds", type=int, default=3, help="collections of the same cluster")
    args = parser.parse_args(argv)
    try:
        [size] = parse_sizes(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    seconds: dict[str, float] = {}
    _instrument(seconds)
    settings = CollectorSettings(concurrency=8, page_size=500)
    print(f"{size.pods:,} pods, {size.nodes:,} nodes; seconds per round")
    print(f"{'round':>5} {'wall':>6} {'cpu':>6}" + "".join(f" {stage:>15}" for stage, *_ in STAGES))
    with tempfile.TemporaryDirectory() as workdir, served_cluster(size, Path(workdir)) as (served, _):
        connection = connect(served.kubeconfig, None)
        for round_number in range(1, args.rounds + 1):
            seconds.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            inventory, _ = asyncio.run(Collector(connection, settings).collect())
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stages = "".join(f" {seconds.get(stage, 0.0):15.2f}" for stage, *_ in STAGES)
            print(f"{round_number:>5} {wall:6.2f} {cpu:6.2f}{stages}", flush=True)
            del inventory
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

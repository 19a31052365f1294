"""`python -m bench [--sizes 1k,10k,100k] [--repeat N]`: measure, print the table, write
bench/out/results.json.

For every size: a generated cluster is served by the replay API server in its own process; each
contender then runs alone in a child process against it (after one unmeasured warm-up pass, so
every contender finds the server's caches equally warm); the inventory the Collector read is
saved and measured offline (checks, scoring, snapshot save/load).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.child import OTHER_VERSION_SNAPSHOT
from bench.cluster import Served, served_cluster
from bench.harness import Measurement, python_command, run_child
from bench.sizes import Size, parse_sizes
from bench.table import render
from bench.tools import find_kubectl

OUT = Path(__file__).resolve().parent / "out"
PAGE_SIZE = 500
CONCURRENCY = 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes", default="1k,10k,100k", help="comma-separated: 1k, 10k, 100k, 15k (~50k findings)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender; the fastest is kept")
    parser.add_argument("--skip", default="", help="comma-separated contenders to leave out")
    parser.add_argument("--out", default=str(OUT / "results.json"), help="results file")
    parser.add_argument(
        "--no-gzip",
        action="store_true",
        help="the server never gzips (every contender accepts gzip; this shows what it costs on loopback)",
    )
    args = parser.parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        parser.error(str(exc))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    OUT.mkdir(parents=True, exist_ok=True)
    kubectl, kubectl_note = find_kubectl() if "kubectl" not in skip else (None, "skipped (--skip)")
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "page_size": PAGE_SIZE,
            "concurrency": CONCURRENCY,
            "repeat": args.repeat,
            "server_gzip": not args.no_gzip,
        },
        "kubectl": kubectl_note,
        "sizes": {},
    }
    for size in sizes:
        print(f"== {size.label}: {size.pods:,} pods, {size.nodes:,} nodes", file=sys.stderr, flush=True)
        results["sizes"][size.label] = measure_size(size, args.repeat, skip, kubectl, not args.no_gzip)
        Path(args.out).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(render(results))
    print(f"\nresults: {args.out}", file=sys.stderr)
    return 0


def machine() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d"),
    }


def measure_size(
    size: Size, repeat: int, skip: set[str], kubectl: str | None, gzip: bool = True
) -> dict[str, Any]:
    workdir = OUT / size.label
    workdir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, Any] = {"pods": size.pods, "nodes": size.nodes}
    with served_cluster(size, workdir, gzip) as (served, server):
        base = {"served": served.to_dict(), "page_size": PAGE_SIZE, "concurrency": CONCURRENCY}
        contender(workdir, "bare-httpx", base, 1)  # warm-up: the server's caches, the page cache
        inventory_snapshot = workdir / "inventory.json.gz"
        plan: list[tuple[str, dict[str, Any]]] = [
            ("bare-httpx", base),
            ("collector", {**base, "save_inventory": str(inventory_snapshot)}),
            ("kubernetes-client", base),
        ]
        if kubectl:
            plan.append(("kubectl", {**base, "kubectl": kubectl}))
        plan = [(name, config) for name, config in plan if name not in skip]
        for name, measurement in in_rounds(workdir, plan, repeat, server.pid).items():
            rows[name] = measurement.to_dict()
        if "scan" not in skip:
            print("   scan ...", file=sys.stderr, flush=True)
            rows["scan"] = full_scan(workdir, served).to_dict()
    if inventory_snapshot.exists() and "offline" not in skip:
        print("   offline ...", file=sys.stderr, flush=True)
        config = {"snapshot": str(inventory_snapshot), "workdir": str(workdir)}
        rows["offline"] = contender(workdir, "offline", config, repeat).to_dict()
        for name, file in (("load-plain", "offline.json"), ("load-gzip", "offline.json.gz")):
            if (workdir / file).exists():
                print(f"   {name} ...", file=sys.stderr, flush=True)
                config = {"snapshot": str(workdir / file)}
                rows[name] = contender(workdir, "load", config, repeat, label=name).to_dict()
        if "tui" not in skip:
            for label, file in (("tui", "offline.json.gz"), ("tui-other-version", OTHER_VERSION_SNAPSHOT)):
                if (workdir / file).exists():
                    print(f"   {label} ...", file=sys.stderr, flush=True)
                    config = {"snapshot": str(workdir / file)}
                    rows[label] = contender(workdir, "tui", config, repeat, label=label).to_dict()
    return rows


def contender(
    workdir: Path, name: str, config: dict[str, Any], repeat: int, label: str | None = None
) -> Measurement:
    """Run contender `name` `repeat` times, each in a fresh process; keep the fastest run.

    The fastest, not the median: the machine may be shared, and other work only ever adds time.
    """
    label = label or name
    config_path = _write_config(workdir, label, config)
    return fastest([_run(name, label, config_path) for _ in range(max(1, repeat))])


def in_rounds(
    workdir: Path, plan: list[tuple[str, dict[str, Any]]], repeat: int, server_pid: int
) -> dict[str, Measurement]:
    """The collection contenders, each once per round, `repeat` rounds; the fastest run of each.

    Interleaved, not one contender's runs back to back: the machine's speed drifts by 10-20%
    over minutes, and the ratios compare contenders, so each round puts them all under the same
    conditions (the table also shows the Collector ÷ bare loop ratio of the worst round). Each
    run also records the CPU time the API server spent while it ran (`server_cpu_seconds`): on a
    machine with few cores the server and the contender share them."""
    paths = {name: _write_config(workdir, name, config) for name, config in plan}
    runs: dict[str, list[Measurement]] = {name: [] for name, _ in plan}
    rounds = max(1, repeat)
    for round_number in range(1, rounds + 1):
        for name, path in paths.items():
            print(f"   {name} (round {round_number} of {rounds}) ...", file=sys.stderr, flush=True)
            server_before = process_cpu_seconds(server_pid)
            measurement = _run(name, name, path)
            server_after = process_cpu_seconds(server_pid)
            if server_before is not None and server_after is not None:
                measurement.result["server_cpu_seconds"] = server_after - server_before
            runs[name].append(measurement)
    return {name: fastest(measurements) for name, measurements in runs.items()}


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` so far (Linux /proc), None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def fastest(runs: list[Measurement]) -> Measurement:
    """The fastest successful run (else the last failure), with every run's seconds."""
    good = [r for r in runs if r.ok]
    best = min(good, key=lambda r: r.seconds) if good else runs[-1]
    best.runs = [r.seconds if r.ok else None for r in runs]
    return best


def _write_config(workdir: Path, label: str, config: dict[str, Any]) -> Path:
    path = workdir / f"{label}.config.json"
    path.write_bytes(orjson.dumps(config))
    return path


def _run(name: str, label: str, config_path: Path) -> Measurement:
    return run_child(label, python_command("-m", "bench.child", name, str(config_path)))


def full_scan(workdir: Path, served: Served) -> Measurement:
    """`k8saudit scan` as a user runs it: collect, check, score, save .json.gz, print the text report."""
    output = workdir / "scan.json.gz"
    command = python_command(
        "-m", "k8saudit", "scan", "--kubeconfig", served.kubeconfig, "-o", str(output),
        "--format", "text", "-q", "--deadline", "1800",
    )  # fmt: skip
    measurement = run_child("scan", command)
    if output.exists():
        measurement.result = {"snapshot_bytes": output.stat().st_size}
    return fastest([measurement])  # run once: `runs` records that one run, as for the others


if __name__ == "__main__":
    sys.exit(main())

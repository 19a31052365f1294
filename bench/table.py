"""The results as a plain-text table: one column per size, then the growth per 10× pods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = dict[str, Any]
Cell = Callable[[Row], str]
Value = Callable[[Row], float | None]

COLLECTION = (
    ("bare-httpx", "bare httpx loop (lower bound)"),
    ("collector", "k8saudit Collector"),
    ("kubernetes-client", "official kubernetes client (models)"),
    ("kubectl", "kubectl get <kinds> -A -o json"),
    ("scan", "k8saudit scan, whole process (.json.gz)"),
)


def _measure(row: Row, name: str) -> Row | None:
    value = row.get(name)
    return value if isinstance(value, dict) and not value.get("error") else None


def _seconds(name: str, whole_process: bool = False) -> Value:
    def value(row: Row) -> float | None:
        m = _measure(row, name)
        return None if m is None else m["process_seconds" if whole_process else "seconds"]

    return value


def _rss(name: str) -> Value:
    def value(row: Row) -> float | None:
        m = _measure(row, name)
        return None if m is None else m["peak_rss_mib"]

    return value


def _result(name: str, field: str) -> Value:
    def value(row: Row) -> float | None:
        m = _measure(row, name)
        return None if m is None else m["result"].get(field)

    return value


def _step(step: str) -> Value:
    def value(row: Row) -> float | None:
        m = _measure(row, "offline")
        return None if m is None else m["result"].get("steps", {}).get(step)

    return value


def _sum(*values: Value) -> Value:
    def value(row: Row) -> float | None:
        parts = [v(row) for v in values]
        return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)

    return value


def _ratio(top: Value, bottom: Value) -> Value:
    def value(row: Row) -> float | None:
        a, b = top(row), bottom(row)
        return None if a is None or not b else a / b

    return value


def _worst_round(top: str, bottom: str) -> Value:
    """The highest `top` ÷ `bottom` of runs made in the same round (`bench.__main__.in_rounds`)."""

    def value(row: Row) -> float | None:
        a, b = _measure(row, top), _measure(row, bottom)
        if a is None or b is None:
            return None
        pairs = zip(a.get("runs") or [a["seconds"]], b.get("runs") or [b["seconds"]], strict=False)
        ratios = [x / y for x, y in pairs if x is not None and y]
        return max(ratios, default=None)

    return value


def _size_mb(kind: str) -> Value:
    def value(row: Row) -> float | None:
        m = _measure(row, "offline")
        size = None if m is None else m["result"].get("sizes", {}).get(kind)
        return None if size is None else size / 1024**2

    return value


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MiB":  # binary units, as ru_maxrss and the targets' memory figures are read
        return f"{value:,.0f} MiB" if value >= 10 else f"{value:.1f} MiB"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:,.0f}"


COLLECTOR = _seconds("collector")
CLIENT = _seconds("kubernetes-client")

# (label, value, unit, growth shown)
ROWS: list[tuple[str, Value | None, str, bool]] = [
    ("Collection: wall time", None, "", False),
    *[(f"  {label}", _seconds(name, name == "scan"), "s", True) for name, label in COLLECTION],
    ("Collection: peak RSS of the process", None, "", False),
    *[(f"  {label}", _rss(name), "MiB", True) for name, label in COLLECTION],
    ("Collection: CPU time of the work (every thread), then the API server's meanwhile", None, "", False),
    *[
        row
        for name, label in COLLECTION[:4]
        for row in (
            (f"  {label}", _result(name, "cpu_seconds"), "s", True),
            ("    the API server, same run", _result(name, "server_cpu_seconds"), "s", False),
        )
    ],
    ("Ratios (time)", None, "", False),
    ("  Collector ÷ bare httpx (target ≤ 1.25)", _ratio(COLLECTOR, _seconds("bare-httpx")), "x", False),
    ("  Collector ÷ bare httpx, worst round", _worst_round("collector", "bare-httpx"), "x", False),
    (
        "  Collector's CPU time ÷ bare httpx wall time",
        _ratio(_result("collector", "cpu_seconds"), _seconds("bare-httpx")),
        "x",
        False,
    ),
    ("  kubernetes client ÷ Collector (target ≥ 10)", _ratio(CLIENT, COLLECTOR), "x", False),
    ("  kubectl ÷ Collector (target > 1)", _ratio(_seconds("kubectl"), COLLECTOR), "x", False),
    ("Offline, same inventory", None, "", False),
    ("  objects collected", _result("collector", "objects"), "", False),
    ("  findings", _result("offline", "findings"), "", False),
    ("  check evaluation", _step("checks"), "s", True),
    ("  scoring", _step("scoring"), "s", True),
    ("  checks + scoring (target < 5 s at 100k)", _sum(_step("checks"), _step("scoring")), "s", True),
    ("  snapshot save .json", _step("save_plain"), "s", True),
    ("  snapshot save .json.gz", _step("save_gzip"), "s", True),
    ("  snapshot size .json", _size_mb("plain"), "MiB", True),
    ("  snapshot size .json.gz (target < 150 MB)", _size_mb("gzip"), "MiB", True),
    ("  peak RSS, checks + scoring + saves", _rss("offline"), "MiB", True),
    ("Opening a snapshot (fresh process each)", None, "", False),
    ("  load .json", _seconds("load-plain"), "s", True),
    ("  load .json.gz (target < 5 s)", _seconds("load-gzip"), "s", True),
    ("  peak RSS, load .json.gz", _rss("load-gzip"), "MiB", True),
    ("Terminal UI: k8saudit open on the .json.gz (Pilot, headless)", None, "", False),
    ("  to the overview, interactive (target < 8 s)", _seconds("tui"), "s", True),
    ("  findings in the table", _result("tui", "findings"), "", False),
    ("  filter keystroke, median (target < 150 ms)", _result("tui", "keystroke_median_ms"), "ms", True),
    ("  filter keystroke, slowest", _result("tui", "keystroke_max_ms"), "ms", True),
    ("  filter keystroke to its frame, median", _result("tui", "keystroke_on_screen_median_ms"), "ms", True),
    ("  peak RSS of the UI process", _rss("tui"), "MiB", True),
    ("  snapshot from another k8saudit version (checks re-run)", None, "", False),
    ("    to the overview, interactive (findings as saved)", _seconds("tui-other-version"), "s", True),
    ("    to today's findings on screen", _result("tui-other-version", "rechecked_seconds"), "s", True),
    ("    filter keystroke, median", _result("tui-other-version", "keystroke_median_ms"), "ms", True),
    ("    peak RSS of the UI process", _rss("tui-other-version"), "MiB", True),
]  # fmt: skip


def render(results: dict[str, Any]) -> str:
    labels = list(results["sizes"])
    rows = [results["sizes"][label] for label in labels]
    growth = [(i - 1, i) for i in range(1, len(rows)) if rows[i]["pods"] == 10 * rows[i - 1]["pods"]]
    header = ["", *[f"{label} pods" for label in labels]]
    header += [f"×10 ({labels[a]}→{labels[b]})" for a, b in growth]
    table: list[list[str]] = [header]
    for label, value, unit, show_growth in ROWS:
        if value is None:
            table.append([label] + [""] * (len(header) - 1))
            continue
        values = [value(row) for row in rows]
        cells = [_fmt(v, unit) for v in values]
        for a, b in growth:
            va, vb = values[a], values[b]
            cells.append(_fmt(vb / va, "x") if show_growth and va and vb is not None else "")
        table.append([label, *cells])
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [_line(r, widths) for r in table]
    lines.insert(1, "-" * len(lines[0]))
    m, s = results["machine"], results["settings"]
    title = (
        f"k8saudit benchmark: {m['cpus']} CPUs, {m['memory_gb']} GiB RAM, Python {m['python']}; "
        f"page size {s['page_size']}, concurrency {s['concurrency']}, fastest of {s['repeat']} run(s); "
        f"server gzip {'on' if s.get('server_gzip', True) else 'off'}"
    )
    return "\n".join([title, f"kubectl: {results['kubectl']}", "", *lines])


def _line(cells: list[str], widths: list[int]) -> str:
    first = cells[0].ljust(widths[0])
    rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
    return "  ".join([first, *rest]).rstrip()

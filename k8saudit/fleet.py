"""A fleet of clusters: scan many contexts at once, or review a directory of their snapshots.

`scan_fleet` scans contexts concurrently (asyncio, at most `max_parallel` at a time) and writes
one snapshot per cluster plus `fleet.json` (which clusters, which file, which failure) into a
directory. One cluster that cannot be reached never stops the others: its entry carries the
one-line reason. `load_fleet` reads such a directory back (or any directory of snapshots),
re-evaluating each snapshot with the current checks and waivers, for `k8saudit report DIR` and
the TUI's fleet view. Both return `FleetEntry` rows: everything a fleet table needs.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from k8saudit.errors import EXIT_CLUSTER, EXIT_OK, EXIT_PARTIAL, K8sAuditError, SnapshotError, UsageError
from k8saudit.gates import GateFailure, Gates, gate_failures, problems_by_severity
from k8saudit.inventory import KINDS_BY_KEY
from k8saudit.model import Severity
from k8saudit.registry import AREA_PREFIX, AREAS, Config
from k8saudit.render import severity_of, sorted_problems
from k8saudit.report import Report, utcnow
from k8saudit.textsafe import safe_text
from k8saudit.waivers import WaiverPolicy

if TYPE_CHECKING:
    from k8saudit.collector import CollectorSettings
    from k8saudit.releases import ReleaseCalendar

INDEX_FILE = "fleet.json"
INDEX_FORMAT = "k8saudit.fleet/1"
FLEET_SCHEMA = "k8saudit.fleet-report/1"
DEFAULT_PARALLEL = 4
WORST_SHOWN = 3
AREA_LABELS = AREA_PREFIX  # the short area names the check ids start with


@dataclass(frozen=True, slots=True)
class WorstFinding:
    severity: str
    status: str
    check_id: str
    subject: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "status": self.status,
            "check_id": self.check_id,
            "subject": self.subject,
            "message": self.message,
        }


@dataclass(slots=True)
class FleetEntry:
    """One cluster of the fleet: its scores and worst findings, or why there are none."""

    context: str
    snapshot: Path | None = None
    error: str | None = None  # one line: why this cluster has no report
    server: str = ""
    grade: str = "-"
    overall: float | None = None
    areas: dict[str, float | None] = field(default_factory=dict)
    problems: dict[str, int] = field(default_factory=dict)  # unwaived fail/warn by severity
    waived: int = 0
    worst: list[WorstFinding] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # kinds that could not be read
    readable: int = 0  # kinds read completely
    collected_at: datetime | None = None
    tool_version: str = ""

    @property
    def ok(self) -> bool:
        """A report exists and something was read (a cluster that forbids every list is not ok)."""
        return self.error is None

    @classmethod
    def from_report(cls, context: str, report: Report, snapshot: Path | None = None) -> FleetEntry:
        inv = report.inventory
        scores = report.scores
        unreadable = [KINDS_BY_KEY[k].kind if k in KINDS_BY_KEY else k for k in report.coverage_gaps]
        readable = inv.kinds_read()
        entry = cls(
            context=context,
            snapshot=snapshot,
            server=inv.cluster.server,
            grade=scores.grade,
            overall=scores.overall,
            areas={area: scores.areas[area].score for area in AREAS},
            problems=dict(problems_by_severity(report)),
            waived=sum(1 for f in report.findings if f.waived),
            worst=[
                WorstFinding(severity_of(report, f), f.status.value, f.check_id, str(f.subject), f.message)
                for f in sorted_problems(report)[:WORST_SHOWN]
            ],
            unreadable=unreadable,
            readable=readable,
            collected_at=report.collection.finished_at,
            tool_version=report.collection.tool_version,
        )
        entry.error = nothing_read(report)
        return entry

    def gate_failures(self, gates: Gates) -> list[GateFailure]:
        if not self.ok or not gates.active:
            return []
        return gate_failures(self.overall, self.problems, gates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "snapshot": shown_path(self.snapshot) if self.snapshot else None,
            "error": self.error,
            "server": self.server,
            "grade": self.grade,
            "overall": None if self.overall is None else round(self.overall, 2),
            "areas": {a: None if v is None else round(v, 2) for a, v in self.areas.items()},
            "problems": self.problems,
            "waived": self.waived,
            "worst": [w.to_dict() for w in self.worst],
            "unreadable": self.unreadable,
            "collected_at": self.collected_at.isoformat() if self.collected_at else None,
            "tool_version": self.tool_version,
        }


def nothing_read(report: Report) -> str | None:
    """Why a scan is no report at all: no kind could be read completely (None when one could).
    Scored, it would grade the cluster on the checks that need no object."""
    if report.inventory.kinds_read():
        return None
    return f"nothing could be read: {_first_gap(report)}"


def _first_gap(report: Report) -> str:
    for key, cov in report.coverage_gaps.items():
        kind = KINDS_BY_KEY[key].kind if key in KINDS_BY_KEY else key
        return f"{kind} {cov.state}" + (
            f" ({cov.message})" if cov.message and cov.message != cov.state else ""
        )
    return "no kind was listed"


# -- scanning -----------------------------------------------------------------------------------

ScanOne = Callable[[str], Awaitable[Report]]


def cluster_scanner(
    kubeconfig: str | None,
    settings: CollectorSettings | None = None,
    config: Config | None = None,
    waivers: WaiverPolicy | None = None,
    calendar: ReleaseCalendar | None = None,
    notes: Sequence[str] = (),
) -> ScanOne:
    """The real `scan_one`: connect (in a thread: exec plugins block), collect, evaluate (in a
    thread too, so the other clusters' requests keep flowing). `calendar` and `notes` as for
    `k8saudit.scan.scan_cluster`."""
    from k8saudit.collector import Collector
    from k8saudit.connection import connect
    from k8saudit.report import evaluate

    async def scan_one(context: str) -> Report:
        connection = await asyncio.to_thread(connect, kubeconfig, context)
        inventory, collection = await Collector(connection, settings).collect()
        collection.notes.extend(notes)
        return await asyncio.to_thread(evaluate, inventory, collection, config, calendar, waivers=waivers)

    return scan_one


def select_contexts(kubeconfig: str | None, all_contexts: bool, names: Sequence[str]) -> list[str]:
    """The contexts to scan: every one of the kubeconfig, or `names` (each must exist)."""
    from k8saudit.connection import list_contexts

    known = sorted(c.name for c in list_contexts(kubeconfig))
    if all_contexts:
        if not known:
            raise UsageError("the kubeconfig defines no contexts")
        return known
    missing = [n for n in names if n not in known]
    if missing:
        raise UsageError(
            f"context {missing[0]!r} not found in kubeconfig (known: {', '.join(known[:10]) or 'none'})"
        )
    return list(dict.fromkeys(names))


def default_output_dir(now: datetime | None = None) -> Path:
    return Path(f"k8saudit-fleet-{(now or utcnow()):%Y%m%d-%H%M%S}")


def snapshot_name(context: str, taken: set[str]) -> str:
    """A file name for `context`'s snapshot, unique within `taken` (which it joins, casefolded:
    on a case-insensitive file system `Prod.json.gz` would replace `prod.json.gz`)."""
    from k8saudit.snapshot import file_stem, numbered_name

    first = Path(f"{file_stem(context, 80) or 'cluster'}.json.gz")
    name = next(
        candidate
        for n in itertools.count(1)
        if (candidate := numbered_name(first, n).name).casefold() not in taken
    )
    taken.add(name.casefold())
    return name


async def scan_fleet(
    contexts: Sequence[str],
    scan_one: ScanOne,
    output_dir: Path | None,
    *,
    max_parallel: int = DEFAULT_PARALLEL,
    on_done: Callable[[FleetEntry], None] | None = None,
) -> list[FleetEntry]:
    """Scan every context with `scan_one` (at most `max_parallel` at once); save each report as a
    snapshot in `output_dir` (None: save nothing) with a `fleet.json` index. Entries come back in
    the order of `contexts`; a failure is that cluster's entry, never an exception."""
    from k8saudit.snapshot import save

    # The directory may hold the user's own files: snapshots get names none of them has.
    taken = _prepare_dir(output_dir) if output_dir is not None else set()
    semaphore = asyncio.Semaphore(max_parallel)
    names = {context: snapshot_name(context, taken) for context in contexts}

    async def one(context: str) -> FleetEntry:
        async with semaphore:
            try:
                report = await scan_one(context)
            except K8sAuditError as exc:
                entry = FleetEntry(context, error=exc.message)
            except Exception as exc:  # one broken cluster must not take the fleet down
                entry = FleetEntry(context, error=f"internal error: {type(exc).__name__}: {exc}")
            else:
                path = None
                if output_dir is not None:
                    path = await asyncio.to_thread(save, report, output_dir / names[context])
                entry = FleetEntry.from_report(context, report, path)
        if on_done is not None:
            on_done(entry)
        return entry

    entries = list(await asyncio.gather(*(one(c) for c in contexts)))
    if output_dir is not None:
        write_index(output_dir, entries)
    return entries


def _prepare_dir(directory: Path) -> set[str]:
    """Create `directory` if needed; the names already in it (casefolded), which a fleet scan
    must not replace. Refused: a directory that holds a `fleet.json` (another scan's, or any
    file of that name) or cannot be listed (its files could not be kept clear of)."""
    shown = shown_path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        existing = {entry.name.casefold() for entry in directory.iterdir()}
    except OSError as exc:
        raise SnapshotError(f"cannot use {shown} as the output directory: {exc.strerror or exc}") from None
    if INDEX_FILE in existing:
        raise SnapshotError(
            f"{shown} already holds a fleet scan or another {INDEX_FILE}; choose another --output-dir"
        )
    return existing


def write_index(directory: Path, entries: Sequence[FleetEntry]) -> Path:
    from k8saudit.snapshot import write_atomically

    index = {
        "format": INDEX_FORMAT,
        "created_at": utcnow().isoformat(),
        "clusters": [
            {
                "context": e.context,
                "snapshot": e.snapshot.name if e.snapshot else None,
                "error": e.error if e.snapshot is None else None,
            }
            for e in entries
        ],
    }
    path = directory / INDEX_FILE
    write_atomically(path, orjson.dumps(index, option=orjson.OPT_INDENT_2))
    return path


# -- reading a directory ------------------------------------------------------------------------


def load_fleet(
    directory: str | Path,
    *,
    config: Config | None = None,
    waivers: WaiverPolicy | None = None,
    as_recorded: bool = False,
    max_bytes: int | None = None,
    calendar: ReleaseCalendar | None = None,
    today: date | None = None,
) -> list[FleetEntry]:
    """The clusters of a fleet directory: from its `fleet.json` when present (so clusters that
    could not be scanned are listed too), else every snapshot file in it. Each snapshot is
    re-evaluated (current checks, `waivers`) unless `as_recorded`; one that cannot be read, or a
    malformed entry of the index, is an entry with the one-line reason. `calendar` replaces the
    calendars saved in the snapshots; `today` is the day waiver expiry is judged against (default:
    today's date)."""
    root = Path(directory)
    listed = _listed(root)
    return [
        _load_entry(context, path, error, config, waivers, as_recorded, max_bytes, calendar, today)
        for context, path, error in listed
    ]


# (context, snapshot file or None, why there is no snapshot to read)
_Listed = tuple[str, Path | None, str | None]


def _listed(root: Path) -> list[_Listed]:
    """What `root` lists: its index's clusters, or else its snapshot files."""
    try:
        if not root.is_dir():
            raise SnapshotError(f"{shown_path(root)} is not a directory")
        if (root / INDEX_FILE).is_file():
            listed = _from_index(root)
            if not listed:
                raise SnapshotError(f"{shown_path(root / INDEX_FILE)} lists no clusters")
            return listed
        listed = _from_files(root)
    except OSError as exc:  # a directory that cannot be listed or searched
        raise SnapshotError(f"cannot read {shown_path(root)}: {exc.strerror or exc}") from None
    if not listed:
        raise SnapshotError(f"{shown_path(root)} holds no snapshots (*.json, *.json.gz) and no {INDEX_FILE}")
    return listed


def _from_index(root: Path) -> list[_Listed]:
    source = root / INDEX_FILE
    shown = shown_path(source)
    try:
        data = orjson.loads(source.read_bytes())
    except OSError as exc:
        raise SnapshotError(f"cannot read {shown}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"{shown} cannot be read: {str(exc)[:160]}") from None
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        raise SnapshotError(f'{shown} is not a k8saudit fleet index (no "format": "{INDEX_FORMAT}")')
    clusters = data.get("clusters")
    if not isinstance(clusters, list):
        raise SnapshotError(f'{shown}: "clusters" must be a list, got {_type_name(clusters)}')
    return [_index_entry(root, shown, number, item) for number, item in enumerate(clusters, start=1)]


def _index_entry(root: Path, index: str, number: int, item: object) -> _Listed:
    """One cluster of the index. A malformed one is listed with what is wrong with it, so that
    the clusters around it are still reported."""
    at = f"{index}: cluster #{number}"
    if not isinstance(item, dict):
        return f"#{number}", None, f"{at} must be an object, got {_type_name(item)}"
    context = item.get("context")
    if not isinstance(context, str):
        return f"#{number}", None, f'{at}: "context" must be a string, got {_type_name(context)}'
    name, error = item.get("snapshot"), item.get("error")
    if error is not None and not isinstance(error, str):
        return context, None, f'{at}: "error" must be a string, got {_type_name(error)}'
    if name is None:
        return context, None, error or "no snapshot recorded"
    if problem := _file_name_problem(name):
        return context, None, f'{at}: "snapshot" {problem}'
    return context, root / name, None


def _file_name_problem(name: object) -> str | None:
    """What makes `name` unusable as the name of a snapshot file in the fleet directory."""
    if not isinstance(name, str):
        return f"must be a file name, got {_type_name(name)}"
    shown = safe_text(repr(name), 80)
    if "\0" in name:
        return f"{shown} holds a NUL character"
    if name in ("", ".", "..") or Path(name).name != name:
        return f"{shown} is not a file name in the fleet directory"
    return None


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _from_files(root: Path) -> list[_Listed]:
    files = sorted(p for p in root.iterdir() if p.name.endswith((".json", ".json.gz")) and p.is_file())
    return [_file_entry(p) for p in files if p.name != INDEX_FILE]


def _file_entry(path: Path) -> _Listed:
    """A snapshot file found in the directory; one whose name is not UTF-8 is listed as such
    (reports, JSON and the terminal all need the name as text)."""
    name = _printable(path.name)
    if name != path.name:  # it had bytes that are not UTF-8, now escaped
        return name, None, f"{shown_path(path)}: the file name is not UTF-8; rename it to read it"
    return "", path, None


def shown_path(path: Path) -> str:
    """`path` as text every output accepts: the bytes of a name that is not UTF-8 (which Python
    keeps as lone surrogates, refused by every encoder) are shown as \\xNN escapes."""
    return _printable(os.fsdecode(path))


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _load_entry(
    context: str,
    path: Path | None,
    error: str | None,
    config: Config | None,
    waivers: WaiverPolicy | None,
    as_recorded: bool,
    max_bytes: int | None,
    calendar: ReleaseCalendar | None,
    today: date | None,
) -> FleetEntry:
    from k8saudit.snapshot import DEFAULT_MAX_BYTES, load

    if path is None:
        return FleetEntry(context, error=error or "not scanned")
    try:
        snapshot = load(path, max_bytes or DEFAULT_MAX_BYTES)
    except SnapshotError as exc:  # its message names the path, which may not be UTF-8
        return FleetEntry(context or path.name, snapshot=path, error=_printable(exc.message))
    report = snapshot.report(
        as_recorded=as_recorded, config=config, waivers=waivers, calendar=calendar, today=today
    )
    return FleetEntry.from_report(context or snapshot.inventory.cluster.context, report, path)


def fleet_exit_code(entries: Sequence[FleetEntry], gates: Gates) -> tuple[int, list[str]]:
    """EXIT_CLUSTER when no cluster could be scanned, EXIT_PARTIAL when some could not, else the
    worst gate result over the clusters; with one line per problem for stderr."""
    missing = [e for e in entries if not e.ok]
    messages = [f"{safe_text(e.context, 120)}: {safe_text(e.error, 300)}" for e in missing]
    if entries and len(missing) == len(entries):
        return EXIT_CLUSTER, messages
    # The clusters that were scanned are gated all the same: their unmet gates are printed even
    # when a missing cluster decides the exit code.
    failures = [(e, f) for e in entries for f in e.gate_failures(gates)]
    messages += [f"{safe_text(e.context, 120)}: {f.message}" for e, f in failures]
    if missing:
        return EXIT_PARTIAL, messages
    return max((f.exit_code for _, f in failures), default=EXIT_OK), messages


# -- rendering ----------------------------------------------------------------------------------


def render_fleet_text(entries: Sequence[FleetEntry], directory: Path | None = None) -> str:
    width = max([len("CLUSTER"), *(len(safe_text(e.context, 40)) for e in entries)])
    header = f"{'CLUSTER':<{width}}  GRADE  SCORE " + "".join(f"{AREA_LABELS[a]:>6}" for a in AREAS)
    lines = [header]
    for e in entries:
        name = f"{safe_text(e.context, 40):<{width}}"
        if e.overall is None and e.error:
            lines.append(f"{name}  {'-':<5}  {'-':>5}  {safe_text(e.error, 300)}")
            continue
        areas = "".join(f"{_cell(e.areas.get(a)):>6}" for a in AREAS)
        lines.append(f"{name}  {e.grade:<5}  {_cell(e.overall):>5} {areas}")
        if e.error:
            lines.append(f"{'':<{width}}  ! {safe_text(e.error, 300)}")
        problems = ", ".join(f"{e.problems[s.value]} {s.value}" for s in Severity if e.problems.get(s.value))
        if problems or e.waived:
            waived = f"; {e.waived} waived" if e.waived else ""
            lines.append(f"{'':<{width}}  findings: {problems or 'none'}{waived}")
        for w in e.worst:
            lines.append(
                f"{'':<{width}}  {w.severity.upper():<8} {w.check_id:<9} "
                f"{safe_text(w.subject, 80)}: {safe_text(w.message, 160)}"
            )
        if e.unreadable and not e.error:
            shown = ", ".join(e.unreadable[:5]) + (" …" if len(e.unreadable) > 5 else "")
            lines.append(f"{'':<{width}}  coverage gaps ({len(e.unreadable)}): {safe_text(shown, 200)}")
    failed = sum(1 for e in entries if not e.ok)
    summary = f"{len(entries)} cluster(s)" + (f", {failed} without a usable scan" if failed else "")
    lines += ["", summary + (f"; snapshots in {safe_text(shown_path(directory), 300)}" if directory else "")]
    return "\n".join(lines) + "\n"


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def fleet_dict(entries: Sequence[FleetEntry], directory: Path | None = None) -> dict[str, Any]:
    grades = Counter(e.grade for e in entries if e.ok)
    return {
        "schema": FLEET_SCHEMA,
        "directory": shown_path(directory) if directory else None,
        "clusters": [e.to_dict() for e in entries],
        "summary": {
            "clusters": len(entries),
            "failed": sum(1 for e in entries if not e.ok),
            "grades": dict(sorted(grades.items())),
        },
    }

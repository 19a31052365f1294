"""Findings prepared once for fast filtering and sorting in the findings screen.

A report can hold tens of thousands of findings. Everything a keystroke needs is computed here
once per report: one lowercase search key per finding, ranks for every sortable column, the
orders those ranks give (built lazily, then cached) and their inverse permutations. A filter is
then one pass over plain lists, and when the new text only narrows the previous one (the user
typed one more character) only the previous matches are searched again. Nothing here renders.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TypeVar

from k8saudit import heap
from k8saudit.model import Finding, Severity, Status, Subject
from k8saudit.report import Report

_K = TypeVar("_K")

PROBLEMS = "problems"  # the status filter value for "fail or warn"
CLUSTER_SCOPED = "(cluster-scoped)"  # the namespace filter value for findings without one
UNKNOWN_SEVERITY_RANK = len(Severity)


@dataclass(frozen=True, slots=True)
class FindingFilter:
    text: str = ""
    min_severity: Severity | None = None  # keep this severity and worse
    area: str | None = None
    namespace: str | None = None  # CLUSTER_SCOPED for findings about cluster-scoped objects
    status: str | None = None  # a Status value, or PROBLEMS
    hide_waived: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.text.lower().split())

    @property
    def is_empty(self) -> bool:
        return self == FindingFilter()

    def narrows(self, previous: FindingFilter) -> bool:
        """Every finding this filter keeps was kept by `previous` (so search only its matches)."""
        same_rest = replace(self, text="") == replace(previous, text="")
        old_words = previous.words
        new_words = self.words
        return same_rest and all(any(old in new for new in new_words) for old in old_words)


@dataclass(frozen=True, slots=True)
class SortDirection:
    """How a column's sort reads: first as `first`, or reversed as `then`. `descending`: the
    first order goes from the most to the least (the most severe, the most points first)."""

    first: str
    then: str
    descending: bool = False


ALPHABETICAL = SortDirection("A to Z", "Z to A")
SORT_DIRECTIONS: dict[str, SortDirection] = {
    "severity": SortDirection("most severe first", "least severe first", descending=True),
    "status": SortDirection("failing first", "failing last"),
    "area": ALPHABETICAL,
    "check": ALPHABETICAL,
    "subject": ALPHABETICAL,
    "message": ALPHABETICAL,
    "points": SortDirection("most first", "fewest first", descending=True),
}


@dataclass(frozen=True, slots=True)
class SortOrder:
    column: str = "status"
    reverse: bool = False  # the column's order turned around (its key pressed again)

    @property
    def descending(self) -> bool:
        """From the most to the least: what the header's ▼ says."""
        return SORT_DIRECTIONS[self.column].descending != self.reverse

    @property
    def words(self) -> str:
        """The order as a reader says it: "most severe first", "Z to A"."""
        direction = SORT_DIRECTIONS[self.column]
        return direction.then if self.reverse else direction.first


@dataclass(frozen=True, slots=True)
class _SharedColumns:
    """The columns every finding of one check with one status (waived or not) has in common."""

    severity: Severity | None
    severity_rank: int
    status: str
    problem: bool
    waived: bool
    area: str
    title: str
    points: float
    search_prefix: str


def _shared_columns(
    report: Report, finding: Finding, cache: dict[tuple[str, Status, bool], _SharedColumns]
) -> _SharedColumns:
    key = (finding.check_id, finding.status, finding.waiver is not None)
    columns = cache.get(key)
    if columns is None:
        check_id, status, waived = key
        meta = report.checks.get(check_id)
        severity = meta.severity if meta else None
        area, title = (meta.area, meta.title) if meta else ("", "")
        prefix = f"{severity.value if severity else ''} {status.value} {'waived' if waived else ''}"
        columns = cache[key] = _SharedColumns(
            severity,
            severity.rank if severity else UNKNOWN_SEVERITY_RANK,
            status.value,
            status.is_problem,
            waived,
            area,
            title,
            report.scores.points_for(finding),
            f"{prefix} {area} {check_id} {title}",
        )
    return columns


class FindingsIndex:
    """The findings of one report, with columns precomputed for filtering and sorting.

    Every column is a plain list indexed like `findings`, so a filter is a few list
    comprehensions (each a tight C-level loop) rather than one Python call per finding.
    """

    def __init__(self, report: Report) -> None:
        with heap.gc_paused():  # hundreds of thousands of acyclic entries (k8saudit.heap)
            self._build(report)
            heap.settle()  # the index lives as long as the report

    def _build(self, report: Report) -> None:
        self.report = report
        self.findings: list[Finding] = report.findings
        findings = self.findings
        # What depends only on (check, status, waived) is worked out once per combination (a few
        # hundred), then every column is one comprehension: 337k findings index in well under 1 s.
        shared: dict[tuple[str, Status, bool], _SharedColumns] = {}
        rows = [_shared_columns(report, f, shared) for f in findings]
        self.severity: list[Severity | None] = [r.severity for r in rows]
        self.severity_rank: list[int] = [r.severity_rank for r in rows]
        self.status: list[str] = [r.status for r in rows]
        self.problem: list[bool] = [r.problem for r in rows]
        self.waived: list[bool] = [r.waived for r in rows]
        # Failing or warning and not waived: what the overview counts as failing.
        self.open_problem: list[bool] = [r.problem and not r.waived for r in rows]
        self.area: list[str] = [r.area for r in rows]
        self.title: list[str] = [r.title for r in rows]
        self.points: list[float] = [r.points for r in rows]
        self.subject_text: list[str] = [str(f.subject) for f in findings]
        self.namespace: list[str] = [f.subject.namespace or CLUSTER_SCOPED for f in findings]
        self.search_key: list[str] = [
            f"{r.search_prefix} {subject} {f.message}".lower()
            for r, subject, f in zip(rows, self.subject_text, findings, strict=True)
        ]
        self._rows = rows  # for the default order
        self._orders: dict[str, tuple[list[int], list[int]]] = {}
        self._last: tuple[FindingFilter, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.findings)

    # -- choices for the filter pickers --------------------------------------------------------

    def namespaces(self) -> list[str]:
        names = sorted(set(self.namespace) - {CLUSTER_SCOPED})
        return [CLUSTER_SCOPED, *names] if CLUSTER_SCOPED in self.namespace else names

    def areas(self) -> list[str]:
        return sorted({a for a in self.area if a})

    def severity_counts(self) -> dict[Severity, Counter[Status]]:
        """Per severity, how many (unwaived) findings have each status."""
        counts: dict[Severity, Counter[Status]] = {s: Counter() for s in Severity}
        for i, finding in enumerate(self.findings):
            severity = self.severity[i]
            if severity is not None and not self.waived[i]:
                counts[severity][finding.status] += 1
        return counts

    # -- sorting ----------------------------------------------------------------------------------

    @cached_property
    def by_check(self) -> dict[str, list[int]]:
        """Indices of each check's findings. Built when first asked (a details screen), not with
        the index: at 100k pods each of these maps costs ~0.1 s of opening the report."""
        return _positions([finding.check_id for finding in self.findings])

    @cached_property
    def by_subject(self) -> dict[Subject, list[int]]:
        return _positions([finding.subject for finding in self.findings])

    def _default_order(self) -> list[int]:
        """Failing first, then the worst severity, the most points, check id, subject.

        All but the subject are shared by the findings of one check with one status (one
        `_SharedColumns`): those groups (a few hundred) are ordered, and only the subjects
        within each are compared. Half the time of sorting 337k five-part keys."""
        status_rank = {s.value: s.rank for s in Status}
        group_key: dict[int, tuple[int, int, float, str]] = {}  # by id: the rows hold each
        groups: dict[tuple[int, int, float, str], list[int]] = defaultdict(list)
        for i, row in enumerate(self._rows):
            key = group_key.get(id(row))
            if key is None:
                check_id = self.findings[i].check_id
                key = group_key[id(row)] = (status_rank[row.status], row.severity_rank, -row.points, check_id)
            groups[key].append(i)
        subject_text = self.subject_text
        ordered: list[int] = []
        for key in sorted(groups):
            ordered.extend(sorted(groups[key], key=subject_text.__getitem__))
        return ordered

    def _column_values(self, column: str) -> list[object]:
        findings = self.findings
        values: dict[str, Callable[[], list[object]]] = {
            "severity": lambda: list(self.severity_rank),
            "area": lambda: list(self.area),
            "check": lambda: [f.check_id for f in findings],
            "subject": lambda: [s.lower() for s in self.subject_text],
            "message": lambda: [f.message.lower() for f in findings],
            "points": lambda: [-p for p in self.points],  # ascending "points": the most points first
        }
        return values[column]()

    def order(self, column: str) -> tuple[list[int], list[int]]:
        """(indices sorted by `column`, position of each index in that order), cached."""
        if column not in SORT_DIRECTIONS:
            raise ValueError(f"unknown sort column {column!r}")
        if column not in self._orders:
            if "status" not in self._orders:
                default = self._default_order()
                self._orders["status"] = (default, _inverse(default))
            ordered = self._orders["status"][0]
            if column != "status":
                values = self._column_values(column)
                ordered = sorted(ordered, key=values.__getitem__)  # stable: ties keep the default order
                self._orders[column] = (ordered, _inverse(ordered))
        return self._orders[column]

    # -- filtering --------------------------------------------------------------------------------

    def matches(self, flt: FindingFilter) -> list[int]:
        """Indices (ascending) of the findings `flt` keeps."""
        if flt.is_empty:
            return list(range(len(self)))
        kept: list[int] | range = range(len(self))
        if self._last is not None and flt.narrows(self._last[0]):
            kept = self._last[1]
        # One comprehension per active criterion, most selective first.
        if flt.namespace is not None:
            namespace, namespaces = flt.namespace, self.namespace
            kept = [i for i in kept if namespaces[i] == namespace]
        if flt.area is not None:
            area, areas = flt.area, self.area
            kept = [i for i in kept if areas[i] == area]
        if flt.status == PROBLEMS:
            problem = self.problem
            kept = [i for i in kept if problem[i]]
        elif flt.status is not None:
            status, statuses = flt.status, self.status
            kept = [i for i in kept if statuses[i] == status]
        if flt.min_severity is not None:
            worst, ranks = flt.min_severity.rank, self.severity_rank
            kept = [i for i in kept if ranks[i] <= worst]
        if flt.hide_waived:
            waived = self.waived
            kept = [i for i in kept if not waived[i]]
        keys = self.search_key
        for word in flt.words:
            kept = [i for i in kept if word in keys[i]]
        result = list(kept)
        self._last = (flt, result)
        return result

    def select(self, flt: FindingFilter, sort: SortOrder = SortOrder()) -> list[int]:
        """The findings `flt` keeps, in `sort` order: what the table shows."""
        kept = self.matches(flt)
        ordered, inverse = self.order(sort.column)
        if len(kept) == len(self):
            result = list(ordered)
        elif len(kept) * 8 < len(self):
            result = sorted(kept, key=inverse.__getitem__)  # few matches: sort them
        else:
            keep = bytearray(len(self))  # many: walk the cached order once
            for i in kept:
                keep[i] = 1
            result = [i for i in ordered if keep[i]]
        if sort.reverse:
            result.reverse()
        return result

    def subjects_of(self, check_id: str) -> list[int]:
        """Every finding of `check_id`, failing first."""
        _, inverse = self.order("status")
        return sorted(self.by_check.get(check_id, []), key=inverse.__getitem__)

    def naming(self, subject: Subject) -> list[int]:
        """Every finding about `subject`, failing first."""
        _, inverse = self.order("status")
        return sorted(self.by_subject.get(subject, []), key=inverse.__getitem__)


def _positions(keys: list[_K]) -> dict[_K, list[int]]:
    """Each key's positions in `keys`, in order."""
    positions: dict[_K, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        positions[key].append(i)
    return positions


def _inverse(order: list[int]) -> list[int]:
    inverse = [0] * len(order)
    for position, i in enumerate(order):
        inverse[i] = position
    return inverse


class IndexedRows:
    """Rows of a table that shows some findings of an index, by their positions in it."""

    def __init__(self, index: FindingsIndex, rows: list[int]) -> None:
        self.index = index
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

"""Findings prepared once for fast filtering and sorting in the findings screen.

A report can hold tens of thousands of findings. Everything a keystroke needs is computed here
once per report: one lowercase search key per finding, ranks for every sortable column, the
orders those ranks give (built lazily, then cached) and their inverse permutations. A filter is
then one pass over plain lists, and when the new text only narrows the previous one (the user
typed one more character) only the previous matches are searched again. Nothing here renders.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from k8saudit.model import Finding, Severity, Status, Subject
from k8saudit.report import Report

PROBLEMS = "problems"  # the status filter value for "fail or warn"
CLUSTER_SCOPED = "(cluster-scoped)"  # the namespace filter value for findings without one
UNKNOWN_SEVERITY_RANK = len(Severity)

SORT_COLUMNS: tuple[str, ...] = ("severity", "status", "area", "check", "subject", "message", "points")


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
class SortOrder:
    column: str = "status"
    descending: bool = False


class FindingsIndex:
    """The findings of one report, with columns precomputed for filtering and sorting."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.findings: list[Finding] = report.findings
        checks, scores = report.checks, report.scores
        n = len(self.findings)
        self.severity: list[Severity | None] = [None] * n
        self.area: list[str] = [""] * n
        self.title: list[str] = [""] * n
        self.points: list[float] = [0.0] * n
        self.subject_text: list[str] = [""] * n
        self.namespace: list[str] = [""] * n
        self.search_key: list[str] = [""] * n
        self.by_check: dict[str, list[int]] = defaultdict(list)
        self.by_subject: dict[Subject, list[int]] = defaultdict(list)
        for i, finding in enumerate(self.findings):
            meta = checks.get(finding.check_id)
            severity = meta.severity if meta else None
            self.severity[i] = severity
            self.area[i] = meta.area if meta else ""
            self.title[i] = meta.title if meta else ""
            self.points[i] = scores.points_for(finding)
            self.subject_text[i] = str(finding.subject)
            self.namespace[i] = finding.subject.namespace or CLUSTER_SCOPED
            self.search_key[i] = " ".join(
                (
                    severity.value if severity else "",
                    finding.status.value,
                    "waived" if finding.waived else "",
                    self.area[i],
                    finding.check_id,
                    self.title[i],
                    self.subject_text[i],
                    finding.message,
                )
            ).lower()
            self.by_check[finding.check_id].append(i)
            self.by_subject[finding.subject].append(i)
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
            if severity is not None and not finding.waived:
                counts[severity][finding.status] += 1
        return counts

    # -- sorting ----------------------------------------------------------------------------------

    def _rank(self, i: int) -> tuple[int, int, float, str, str]:
        """The default order: failing first, then the worst severity, the most points, by id."""
        severity = self.severity[i]
        finding = self.findings[i]
        return (
            finding.status.rank,
            severity.rank if severity else UNKNOWN_SEVERITY_RANK,
            -self.points[i],
            finding.check_id,
            self.subject_text[i],
        )

    def _column_key(self, column: str) -> Callable[[int], object]:
        findings, severity = self.findings, self.severity
        keys: dict[str, Callable[[int], object]] = {
            "severity": lambda i: severity[i].rank if severity[i] else UNKNOWN_SEVERITY_RANK,
            "area": self.area.__getitem__,
            "check": lambda i: findings[i].check_id,
            "subject": lambda i: self.subject_text[i].lower(),
            "message": lambda i: findings[i].message.lower(),
            "points": lambda i: -self.points[i],  # ascending "points" means the most points first
        }
        return keys[column]

    def order(self, column: str) -> tuple[list[int], list[int]]:
        """(indices sorted by `column`, position of each index in that order), cached."""
        if column not in SORT_COLUMNS:
            raise ValueError(f"unknown sort column {column!r}")
        if column not in self._orders:
            default = sorted(range(len(self)), key=self._rank)
            if column == "status":
                ordered = default
            else:
                key = self._column_key(column)
                ordered = sorted(default, key=key)  # stable: ties keep the default order
            inverse = [0] * len(ordered)
            for p, i in enumerate(ordered):
                inverse[i] = p
            self._orders[column] = (ordered, inverse)
        return self._orders[column]

    # -- filtering --------------------------------------------------------------------------------

    def matches(self, flt: FindingFilter) -> list[int]:
        """Indices (ascending) of the findings `flt` keeps."""
        if flt.is_empty:
            return list(range(len(self)))
        candidates: Sequence[int] = range(len(self))
        if self._last is not None and flt.narrows(self._last[0]):
            candidates = self._last[1]
        kept = [i for i in candidates if self._keeps(flt, i)]
        self._last = (flt, kept)
        return kept

    def _keeps(self, flt: FindingFilter, i: int) -> bool:
        finding = self.findings[i]
        if flt.hide_waived and finding.waived:
            return False
        if flt.status is not None:
            if flt.status == PROBLEMS:
                if not finding.status.is_problem:
                    return False
            elif finding.status.value != flt.status:
                return False
        if flt.min_severity is not None:
            severity = self.severity[i]
            if severity is None or severity.rank > flt.min_severity.rank:
                return False
        if flt.area is not None and self.area[i] != flt.area:
            return False
        if flt.namespace is not None and self.namespace[i] != flt.namespace:
            return False
        key = self.search_key[i]
        return all(word in key for word in flt.words)

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
        if sort.descending:
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
